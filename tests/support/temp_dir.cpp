#include "tests/support/temp_dir.h"

#include <stdlib.h>
#include <unistd.h>

#include <cctype>

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

std::string unique_instance_name(const std::string& test_name) {
  // Appended piece by piece: GCC 12's -Wrestrict misreads "t" + std::string (GCC bug 105329).
  std::string name = "t";
  name += std::to_string(getpid());
  name += '-';
  name += test_name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '_';
  }
  return name;
}

}  // namespace synthfarm::testing
