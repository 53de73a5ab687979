#pragma once
// A temporary folder for a test that writes files, and names for its instances; no process of
// its own is involved.

#include <string>

namespace synthfarm::testing {

// A fresh directory under /tmp, removed with everything in it by the destructor.
// Thread: the test's. Throws std::runtime_error when no directory can be made.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// An instance name (synthfarm --name) no other test uses at the same time: the test process's
// pid and the test's name. Thread: any.
std::string unique_instance_name(const std::string& test_name);

}  // namespace synthfarm::testing
