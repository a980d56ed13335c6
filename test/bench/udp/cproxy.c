/* The bench's baseline: flannel's udp proxy cost model (pkg/backend/udp/proxy_amd64.c)
 * reduced to its data path. One thread, poll() on the TUN and the socket, then
 * "optimistic" reads until both say EAGAIN, ONE syscall per packet each way, TTL
 * decremented with an incremental checksum patch on send and on receive, the peer
 * found by a linear scan. Usage (the TUN must not exist; configure it afterwards):
 *   cproxy <tun-name> <bind-ip> <port> [<subnet> <prefix> <peer-ip>]...            */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct route { uint32_t net, mask; struct sockaddr_in to; };

static int dec_ttl(uint8_t *p) {
  if (p[8] <= 1) return 0;
  p[8]--;
  uint32_t c = ((uint32_t)p[10] << 8 | p[11]) + 0x100;
  c = (c + (c >= 0xffff)) & 0xffff;
  p[10] = c >> 8; p[11] = c & 0xff;
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 4 || (argc - 4) % 3) { fprintf(stderr, "usage\n"); return 2; }
  int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  struct ifreq ifr; memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (tun < 0 || ioctl(tun, TUNSETIFF, &ifr) < 0) { perror("tun"); return 1; }
  fcntl(tun, F_SETFL, fcntl(tun, F_GETFL) | O_NONBLOCK);
  int port = atoi(argv[3]);
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int big = 8 << 20;
  setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, argv[2], &me.sin_addr);
  if (bind(sock, (struct sockaddr *)&me, sizeof me) < 0) { perror("bind"); return 1; }
  int n = (argc - 4) / 3;
  struct route *routes = calloc(n, sizeof *routes);
  for (int i = 0; i < n; i++) {
    struct in_addr a; inet_pton(AF_INET, argv[4 + 3 * i], &a);
    int prefix = atoi(argv[5 + 3 * i]);
    routes[i].mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
    routes[i].net = a.s_addr & routes[i].mask;
    routes[i].to.sin_family = AF_INET; routes[i].to.sin_port = htons(port);
    inet_pton(AF_INET, argv[6 + 3 * i], &routes[i].to.sin_addr);
  }
  printf("ready\n"); fflush(stdout);
  static uint8_t buf[65536];
  struct pollfd fds[2] = { { .fd = tun, .events = POLLIN }, { .fd = sock, .events = POLLIN } };
  for (;;) {
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return 1;
    int more;
    do {
      more = 0;
      ssize_t len = read(tun, buf, sizeof buf);
      if (len >= 20) {
        more = 1;
        uint32_t dst; memcpy(&dst, buf + 16, 4);
        for (int i = 0; i < n; i++) if ((dst & routes[i].mask) == routes[i].net) {
          if (dec_ttl(buf)) sendto(sock, buf, len, 0, (struct sockaddr *)&routes[i].to, sizeof routes[i].to);
          break;
        }
      }
      len = recv(sock, buf, sizeof buf, 0);
      if (len >= 20) {
        more = 1;
        if (dec_ttl(buf)) (void)!write(tun, buf, len);
      }
    } while (more);
  }
}
