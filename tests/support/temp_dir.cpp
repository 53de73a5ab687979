#include "tests/support/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace synthfarm::testing {

TempDir::TempDir() {
  char pattern[] = "/tmp/synthfarm-test-XXXXXX";
  if (!mkdtemp(pattern)) {
    throw std::runtime_error(std::string("mkdtemp in /tmp failed: ") + std::strerror(errno));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code error;
  std::filesystem::remove_all(path_, error);
}

}  // namespace synthfarm::testing
