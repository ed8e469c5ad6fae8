// Outputs never replace what is not a regular file nor overwrite their inputs;
// inputs never block; temporary files of killed writers are cleaned up.
#include "bdl/core/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/errors.h"

namespace bdl {
namespace {

namespace fs = std::filesystem;
using testing::error_of;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bdl_file_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static void put(const std::string& p, const std::string& text) { std::ofstream(p) << text; }
  static std::string get(const std::string& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  static void write_atomically(const std::string& p, const std::string& text) {
    AtomicFile f(p);
    f.write(text.data(), text.size());
    f.commit();
  }
  fs::path dir_;
};

TEST_F(FileTest, OutputKindsAreDecidedByWhatThePathIs) {
  EXPECT_EQ(check_output_path(path("new.bin"), "--out"), OutputKind::file);
  put(path("old.bin"), "x");
  EXPECT_EQ(check_output_path(path("old.bin"), "--out"), OutputKind::file);
  EXPECT_EQ(check_output_path("/dev/null", "--out"), OutputKind::device);
  ASSERT_EQ(::mkfifo(path("pipe").c_str(), 0600), 0);
  EXPECT_EQ(check_output_path(path("pipe"), "--out"), OutputKind::pipe);
  EXPECT_EQ(error_of([&] { check_output_path(dir_.string(), "--out"); }),
            "--out: " + dir_.string() + " is a directory; name a file");
  EXPECT_EQ(
      error_of([&] { check_output_path(path("no/such/x.bin"), "--out"); }),
      "--out: " + path("no/such/x.bin") + ": directory " + path("no/such") + " does not exist");
}

TEST_F(FileTest, ADeviceIsWrittenThroughAndStaysADevice) {
  write_atomically("/dev/null", "bytes");
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  const std::string message = error_of([] { write_atomically("/dev/full", "bytes"); });
  EXPECT_NE(message.find("/dev/full: writing failed"), std::string::npos) << message;
  ASSERT_EQ(::stat("/dev/full", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST_F(FileTest, APipeNobodyReadsIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo(path("pipe").c_str(), 0600), 0);
  EXPECT_EQ(error_of([&] { write_atomically(path("pipe"), "x"); }),
            path("pipe") + ": a pipe that nothing reads");
  struct stat st {};
  ASSERT_EQ(::lstat(path("pipe").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST_F(FileTest, ReadingAPipeIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo(path("pipe").c_str(), 0600), 0);
  EXPECT_EQ(error_of([&] { InputFile f(path("pipe")); }),
            path("pipe") + ": not a regular file (a pipe: bdl reads files it can map and seek)");
  EXPECT_EQ(error_of([&] { InputFile f(dir_.string()); }),
            dir_.string() + ": not a regular file (a directory)");
}

TEST_F(FileTest, ASymbolicLinkStaysAndItsTargetIsWritten) {
  put(path("target"), "old");
  fs::create_symlink(path("target"), path("link"));
  write_atomically(path("link"), "new");
  EXPECT_TRUE(fs::is_symlink(path("link")));
  EXPECT_EQ(get(path("target")), "new");
}

TEST_F(FileTest, AnOutputThatIsItsInputIsRefused) {
  put(path("model"), "weights");
  fs::create_hard_link(path("model"), path("same"));
  fs::create_symlink(path("model"), path("link"));
  for (const std::string& out : {path("model"), path("same"), path("link")}) {
    EXPECT_EQ(error_of([&] { check_not_input(out, "-o", path("model"), "--model"); }),
              "-o: " + out + " is the input file (--model " + path("model") +
                  "); write the output to another path");
  }
  put(path("other"), "x");
  EXPECT_EQ(error_of([&] { check_not_input(path("other"), "-o", path("model"), "--model"); }),
            "no error");
  EXPECT_EQ(error_of([&] { check_not_input(path("new"), "-o", path("model"), "--model"); }),
            "no error");
}

TEST_F(FileTest, TemporariesOfDeadProcessesOfThisHostAreRemoved) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string dead = path("a.bin.tmp-999999999@") + host;  // beyond any pid_max
  const std::string alive = path("b.bin.tmp-1@") + host;         // init runs
  const std::string elsewhere = path("c.bin.tmp-999999999@another-host");
  for (const auto& p : {dead, alive, elsewhere}) put(p, "partial");
  write_atomically(path("d.bin"), "done");
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(alive));
  EXPECT_TRUE(fs::exists(elsewhere));
  EXPECT_EQ(get(path("d.bin")), "done");
}

TEST_F(FileTest, AnUncommittedFileLeavesThePreviousOneAndNoTemporary) {
  put(path("x"), "previous");
  {
    AtomicFile f(path("x"));
    f.write("half", 4);
  }
  EXPECT_EQ(get(path("x")), "previous");
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
}

}  // namespace
}  // namespace bdl
