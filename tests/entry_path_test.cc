#include "entry_path.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xfer {
namespace {

const std::vector<std::string> kTops = {"db", "logs"};

TEST(EntryPathTest, AcceptsRelativePaths) {
  EXPECT_TRUE(IsSafeRelativePath("db"));
  EXPECT_TRUE(IsSafeRelativePath("db/ibdata1"));
  EXPECT_TRUE(IsSafeRelativePath("db//sub/./file/"));
  EXPECT_TRUE(IsSafeRelativePath("./db"));
  EXPECT_TRUE(IsSafeRelativePath("db/..."));  // a name, not a climb
  EXPECT_TRUE(IsSafeRelativePath("db/..hidden"));
}

TEST(EntryPathTest, RejectsAbsoluteEmptyAndClimbingPaths) {
  EXPECT_FALSE(IsSafeRelativePath(""));
  EXPECT_FALSE(IsSafeRelativePath("/etc/passwd"));
  EXPECT_FALSE(IsSafeRelativePath("//db"));
  EXPECT_FALSE(IsSafeRelativePath(".."));
  EXPECT_FALSE(IsSafeRelativePath("../x"));
  EXPECT_FALSE(IsSafeRelativePath("db/../../x"));
  EXPECT_FALSE(IsSafeRelativePath("db/.."));
  EXPECT_FALSE(IsSafeRelativePath("."));
  EXPECT_FALSE(IsSafeRelativePath("./"));
  EXPECT_FALSE(IsSafeRelativePath(".//./"));
  EXPECT_FALSE(IsSafeRelativePath(std::string("db/a\0b", 6)));
}

TEST(EntryPathTest, NormalizesEmptyAndDotComponents) {
  EXPECT_EQ(NormalizeEntryPath("db"), "db");
  EXPECT_EQ(NormalizeEntryPath("db/"), "db");
  EXPECT_EQ(NormalizeEntryPath("./db//sub/./file/"), "db/sub/file");
}

TEST(EntryPathTest, FirstComponentOfNormalizedPath) {
  EXPECT_EQ(FirstComponent("db/ibdata1"), "db");
  EXPECT_EQ(FirstComponent("db"), "db");
}

TEST(EntryPathTest, ValidTopNamesAreSingleComponents) {
  EXPECT_TRUE(IsValidTopName("db"));
  EXPECT_TRUE(IsValidTopName("with space"));
  EXPECT_TRUE(IsValidTopName("\xff\xfe"));
  EXPECT_FALSE(IsValidTopName(""));
  EXPECT_FALSE(IsValidTopName("."));
  EXPECT_FALSE(IsValidTopName(".."));
  EXPECT_FALSE(IsValidTopName("a/b"));
}

TEST(EntryPathTest, CheckEntryPathReturnsNormalizedPath) {
  std::string normalized;
  ASSERT_TRUE(CheckEntryPath("db//ibdata1", kTops, &normalized).ok());
  EXPECT_EQ(normalized, "db/ibdata1");
  ASSERT_TRUE(CheckEntryPath("logs/", kTops, &normalized).ok());
  EXPECT_EQ(normalized, "logs");
}

TEST(EntryPathTest, RefusesEntryEscapingDestination) {
  std::string normalized;
  Status status = CheckEntryPath("../x", kTops, &normalized);
  EXPECT_EQ(status.code(), Code::kUnsafe);
  EXPECT_EQ(status.message(), "refusing entry '../x': path escapes the destination");
  EXPECT_EQ(CheckEntryPath("db/../../x", kTops, &normalized).code(), Code::kUnsafe);
}

TEST(EntryPathTest, RefusesAbsoluteEntry) {
  std::string normalized;
  Status status = CheckEntryPath("/etc/x", kTops, &normalized);
  EXPECT_EQ(status.code(), Code::kUnsafe);
  EXPECT_EQ(status.message(), "refusing entry '/etc/x': path is absolute");
}

TEST(EntryPathTest, RefusesEntryOutsideAnnouncedNames) {
  std::string normalized;
  Status status = CheckEntryPath("other/file", kTops, &normalized);
  EXPECT_EQ(status.code(), Code::kUnsafe);
  EXPECT_NE(status.message().find("'other/file'"), std::string::npos) << status.message();
  // A prefix of an announced name is not that name.
  EXPECT_EQ(CheckEntryPath("d/file", kTops, &normalized).code(), Code::kUnsafe);
  EXPECT_EQ(CheckEntryPath("dbx", kTops, &normalized).code(), Code::kUnsafe);
}

TEST(EntryPathTest, RefusesEmptyEntries) {
  std::string normalized;
  EXPECT_EQ(CheckEntryPath("", kTops, &normalized).code(), Code::kUnsafe);
  EXPECT_EQ(CheckEntryPath("./", kTops, &normalized).code(), Code::kUnsafe);
}

TEST(EntryPathTest, HardlinkTargetMessageNamesTheEntry) {
  std::string normalized;
  Status status = CheckHardlinkTarget("db/h", "../outside", kTops, &normalized);
  EXPECT_EQ(status.code(), Code::kUnsafe);
  EXPECT_EQ(status.message(),
            "refusing entry 'db/h': hardlink target '../outside' escapes the destination");
  EXPECT_EQ(CheckHardlinkTarget("db/h", "/etc/passwd", kTops, &normalized).code(), Code::kUnsafe);
  ASSERT_TRUE(CheckHardlinkTarget("db/h", "logs/a", kTops, &normalized).ok());
  EXPECT_EQ(normalized, "logs/a");
}

TEST(EntryPathTest, MessagesEscapeNonPrintableBytes) {
  std::string normalized;
  Status status = CheckEntryPath("../\x1b[31mred\n\xff", kTops, &normalized);
  EXPECT_EQ(status.message(),
            "refusing entry '../\\x1b[31mred\\n\\xff': path escapes the destination");
}

TEST(EntryPathTest, EscapeForMessage) {
  EXPECT_EQ(EscapeForMessage("plain name.txt"), "plain name.txt");
  EXPECT_EQ(EscapeForMessage("a\tb\\c"), "a\\tb\\\\c");
  EXPECT_EQ(EscapeForMessage(std::string("\0\x7f", 2)), "\\x00\\x7f");
}

}  // namespace
}  // namespace xfer
