// tartan's TUN addon: the one thing Node cannot do by itself (see
// src/kernel/tun/README.md). Plain C against N-API only (ABI-stable from Node 20
// on), no npm dependencies. It opens a TUN device, and watches it with libuv's
// uv_poll: on readiness it reads packets until EAGAIN (or the batch is full)
// into a slab JavaScript preallocated, then calls JavaScript ONCE with the
// count; lengths are in an Int32Array beside the slab. Writes are synchronous,
// one packet per write(2) (a TUN write is one packet; writev would merge them).
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

typedef struct {
  napi_env env;
  int fd;
  uv_poll_t *poll;
  napi_ref cb, slab_ref, lengths_ref;
  napi_async_context async;
  uint8_t *slab;
  int32_t *lengths;
  size_t slot, batch;
} tun_t;

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, "ETUNADDON", "tartan_tun: N-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char *code = err == ENOENT ? "ENOENT" : err == EPERM ? "EPERM" : err == EBUSY ? "EBUSY" : err == EINVAL ? "EINVAL" : "ETUN";
  napi_throw_error(env, code, msg);
  return NULL;
}

static void release(tun_t *t) {
  if (t->poll) {
    uv_poll_stop(t->poll);
    uv_close((uv_handle_t *)t->poll, (uv_close_cb)free);
    t->poll = NULL;
  }
  if (t->cb) { napi_delete_reference(t->env, t->cb); t->cb = NULL; }
  if (t->slab_ref) { napi_delete_reference(t->env, t->slab_ref); t->slab_ref = NULL; }
  if (t->lengths_ref) { napi_delete_reference(t->env, t->lengths_ref); t->lengths_ref = NULL; }
  if (t->async) { napi_async_destroy(t->env, t->async); t->async = NULL; }
  if (t->fd >= 0) { close(t->fd); t->fd = -1; }
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  tun_t *t = data;
  release(t);
  free(t);
}

static tun_t *unwrap(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "tartan_tun: expected a TUN handle");
    return NULL;
  }
  return data;
}

// open(name) → handle; handle.name via name(handle). IFF_TUN | IFF_NO_PI, non-blocking.
static napi_value tun_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  char name[IFNAMSIZ] = {0};
  size_t n = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "tartan_tun.open(name): name must be a string");
    return NULL;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open /dev/net/tun", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, n);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "ioctl TUNSETIFF", err);
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "fcntl O_NONBLOCK", err);
  }
  tun_t *t = calloc(1, sizeof *t);
  if (!t) { close(fd); return throw_errno(env, "calloc", ENOMEM); }
  t->env = env;
  t->fd = fd;
  napi_value handle, devname;
  CHECK(napi_create_external(env, t, finalize, NULL, &handle));
  CHECK(napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &devname));
  CHECK(napi_create_object(env, &out));
  CHECK(napi_set_named_property(env, out, "handle", handle));
  CHECK(napi_set_named_property(env, out, "name", devname));
  return out;
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  tun_t *t = poll->data;
  napi_env env = t->env;
  int32_t count = 0;
  if (status < 0) {
    count = status; // a negative count tells JavaScript the poll failed (libuv error code)
  } else {
    while ((size_t)count < t->batch) {
      ssize_t r = read(t->fd, t->slab + (size_t)count * t->slot, t->slot);
      if (r < 0) {
        if (errno == EINTR) continue;
        break; // EAGAIN: drained; anything else: the next readiness tells again
      }
      t->lengths[count++] = (int32_t)r;
    }
    if (count == 0) return;
  }
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, arg, result;
  if (napi_get_reference_value(env, t->cb, &cb) == napi_ok && cb != NULL &&
      napi_get_global(env, &recv) == napi_ok && napi_create_int32(env, count, &arg) == napi_ok) {
    if (napi_make_callback(env, t->async, recv, cb, 1, &arg, &result) == napi_pending_exception) {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

// poll(handle, slab: Buffer, lengths: Int32Array, slot: number, cb(count)): starts reading.
static napi_value tun_poll(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) { napi_throw_type_error(env, NULL, "tartan_tun.poll(handle, slab, lengths, slot, cb)"); return NULL; }
  tun_t *t = unwrap(env, argv[0]);
  if (!t) return NULL;
  if (t->poll || t->fd < 0) { napi_throw_error(env, "ETUN", "tartan_tun.poll: already polling or closed"); return NULL; }
  void *slab = NULL, *lengths = NULL;
  size_t slab_len = 0, nlengths = 0;
  napi_typedarray_type type;
  uint32_t slot = 0;
  CHECK(napi_get_buffer_info(env, argv[1], &slab, &slab_len));
  CHECK(napi_get_typedarray_info(env, argv[2], &type, &nlengths, &lengths, NULL, NULL));
  CHECK(napi_get_value_uint32(env, argv[3], &slot));
  if (type != napi_int32_array || slot == 0 || nlengths == 0 || slab_len < (size_t)slot * nlengths) {
    napi_throw_range_error(env, NULL, "tartan_tun.poll: the slab must hold lengths.length slots of `slot` bytes");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  napi_value resource_name;
  CHECK(napi_create_string_utf8(env, "tartan:tun", NAPI_AUTO_LENGTH, &resource_name));
  CHECK(napi_async_init(env, NULL, resource_name, &t->async));
  CHECK(napi_create_reference(env, argv[4], 1, &t->cb));
  CHECK(napi_create_reference(env, argv[1], 1, &t->slab_ref));
  CHECK(napi_create_reference(env, argv[2], 1, &t->lengths_ref));
  t->slab = slab;
  t->lengths = lengths;
  t->slot = slot;
  t->batch = nlengths;
  t->poll = malloc(sizeof *t->poll);
  if (!t->poll) return throw_errno(env, "malloc", ENOMEM);
  int err = uv_poll_init(loop, t->poll, t->fd);
  if (err == 0) {
    t->poll->data = t;
    err = uv_poll_start(t->poll, UV_READABLE, on_readable);
  }
  if (err != 0) {
    free(t->poll);
    t->poll = NULL;
    napi_throw_error(env, "ETUN", uv_strerror(err));
    return NULL;
  }
  return NULL;
}

// write(handle, buf, offset, length) → bytes written, or -errno (EAGAIN when the queue is full).
static napi_value tun_write(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) { napi_throw_type_error(env, NULL, "tartan_tun.write(handle, buf, offset, length)"); return NULL; }
  tun_t *t = unwrap(env, argv[0]);
  if (!t) return NULL;
  void *data = NULL;
  size_t len = 0;
  uint32_t off = 0, n = 0;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  CHECK(napi_get_value_uint32(env, argv[2], &off));
  CHECK(napi_get_value_uint32(env, argv[3], &n));
  if ((size_t)off + n > len) { napi_throw_range_error(env, NULL, "tartan_tun.write: offset + length beyond the buffer"); return NULL; }
  ssize_t r = t->fd < 0 ? -EBADF : write(t->fd, (uint8_t *)data + off, n);
  CHECK(napi_create_int32(env, r < 0 && t->fd >= 0 ? -errno : (int32_t)r, &out));
  return out;
}

// close(handle): stops the poll and closes the fd (the device goes with it).
static napi_value tun_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  tun_t *t = argc < 1 ? NULL : unwrap(env, argv[0]);
  if (!t) return NULL;
  release(t);
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    {"open", NULL, tun_open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"poll", NULL, tun_poll, NULL, NULL, NULL, napi_enumerable, NULL},
    {"write", NULL, tun_write, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, tun_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
