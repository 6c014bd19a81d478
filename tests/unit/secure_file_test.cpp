// The shared safe-file helper (natter/secure_file.hpp) on its own; its users' rules are tested
// in key_file_test, keylog_test and the client's known_hosts and verified_store tests.
#include "natter/secure_file.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <string>

#include "planted_files.hpp"
#include "test_support.hpp"

namespace files = natter::files;
using natter::test::temp_dir;

TEST_CASE("replace_file writes 0600 through a random temporary name and leaves nothing else") {
  temp_dir tmp;
  const auto path = tmp / "list";
  files::replace_file(path, "one\n", "list");
  files::replace_file(path, "two\n", "list");
  CHECK(natter::test::read_file(path) == "two\n");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(tmp.path())) ++entries;
  CHECK(entries == 1);
}

TEST_CASE("replace_file replaces a symlink at the name instead of writing through it") {
  temp_dir tmp;
  const auto victim = tmp / "victim";
  natter::test::write_file(victim, "precious\n", 0644);
  const auto path = tmp / "list";
  std::filesystem::create_symlink(victim, path);
  files::replace_file(path, "new\n", "list");
  CHECK_FALSE(std::filesystem::is_symlink(path));
  CHECK(natter::test::read_file(path) == "new\n");
  CHECK(natter::test::read_file(victim) == "precious\n");
}

TEST_CASE("replace_file into a missing directory fails cleanly") {
  temp_dir tmp;
  CHECK_THROWS_AS(files::replace_file(tmp / "no" / "list", "x", "list"), files::secure_file_error);
}

TEST_CASE("create_new never opens an existing name, not even a dangling symlink") {
  temp_dir tmp;
  const auto path = tmp / "new";
  std::filesystem::create_symlink(tmp / "target", path);
  CHECK_FALSE(files::create_new(path, 0, "file").valid());
  CHECK_FALSE(std::filesystem::exists(tmp / "target"));
  std::filesystem::remove(path);
  const auto fd = files::create_new(path, 0, "file");
  REQUIRE(fd.valid());
  struct stat st {};
  REQUIRE(::fstat(fd.get(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("open_existing: a missing file is an invalid fd; a private file of ours opens") {
  temp_dir tmp;
  CHECK_FALSE(files::open_existing(tmp / "absent", O_RDONLY, files::exposure::secret, "file").valid());
  natter::test::write_file(tmp / "ok", "x", 0600);
  const auto fd = files::open_existing(tmp / "ok", O_RDONLY, files::exposure::secret, "file");
  REQUIRE(fd.valid());
  CHECK(files::read_all(fd.get(), 16, tmp / "ok", "file") == "x");
  // O_NONBLOCK, used only to open safely, is cleared again.
  CHECK((::fcntl(fd.get(), F_GETFL) & O_NONBLOCK) == 0);
}

TEST_CASE("read_all refuses a file larger than its limit") {
  temp_dir tmp;
  natter::test::write_file(tmp / "big", std::string(100, 'x'), 0600);
  const auto fd = files::open_existing(tmp / "big", O_RDONLY, files::exposure::secret, "file");
  REQUIRE(fd.valid());
  CHECK_THROWS_WITH_AS((void)files::read_all(fd.get(), 99, tmp / "big", "file"),
                       doctest::Contains("is too large"), files::secure_file_error);
}
