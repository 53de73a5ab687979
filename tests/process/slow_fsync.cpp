// TEST ONLY: preloaded (LD_PRELOAD) into synthfarm by worker_failure_test, so that fsync takes a
// second, as on a busy or failing disk; everything else is the C library's own.
#include <dlfcn.h>
#include <unistd.h>

extern "C" int fsync(int fd) {
  using Fsync = int (*)(int);
  static const auto real = reinterpret_cast<Fsync>(dlsym(RTLD_NEXT, "fsync"));
  sleep(1);
  return real(fd);
}
