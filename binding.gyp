# tartan's one native addon: the TUN device for the udp backend (src/kernel/tun).
# Built by `npm ci` through the package.json install script, which never fails the
# install: without a compiler every backend but udp still works.
{
  "targets": [
    {
      "target_name": "tartan_tun",
      "sources": ["src/kernel/tun/tun.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
