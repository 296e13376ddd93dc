// Shell quoting: words that a real /bin/sh, and a real sshd's remote shell, read back byte for byte
// without running anything hidden in them; and --ssh strings split the way sh splits them.
#include "shell_quote.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "child_process.h"
#include "sshd_server.h"
#include "temp_dir.h"

namespace xfer::cli {
namespace {

using ::xfer::testing::ChildProcess;
using ::xfer::testing::SshdServer;
using ::xfer::testing::TempDir;

TEST(ShellQuoteTest, QuotesEverythingButPlainWords) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"xfer-recv", "xfer-recv"},
      {"/opt/xfer/bin/xfer-send", "/opt/xfer/bin/xfer-send"},
      {"root@db1:/srv/data,v2%+", "root@db1:/srv/data,v2%+"},
      {"", "''"},
      {"a b", "'a b'"},
      {"it's", "'it'\\''s'"},
      {"'", "''\\'''"},
      {"$HOME", "'$HOME'"},
      {"~", "'~'"},
      {"A=B", "'A=B'"},
      {"#x", "'#x'"},
      {"a\nb", "'a\nb'"},
      {"*", "'*'"},
  };
  for (const auto& [arg, quoted] : cases) EXPECT_EQ(ShellQuote(arg), quoted) << arg;
}

TEST(ShellQuoteTest, CommandJoinsQuotedWordsWithSpaces) {
  EXPECT_EQ(ShellCommand({"xfer-recv", "--dest", "/srv/my data", ""}),
            "xfer-recv --dest '/srv/my data' ''");
  EXPECT_EQ(ShellCommand({}), "");
}

TEST(SplitCommandWordsTest, SplitsLikeSh) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"ssh", {"ssh"}},
      {"  ssh\t-p 2222\n", {"ssh", "-p", "2222"}},
      {"ssh -p 2222 -i '/path with space/key'",
       {"ssh", "-p", "2222", "-i", "/path with space/key"}},
      {"ssh -o \"ProxyJump=a b\"", {"ssh", "-o", "ProxyJump=a b"}},
      {"a\\ b c", {"a b", "c"}},
      {"'' x \"\"", {"", "x", ""}},
      {"a'b'\"c\"d", {"abcd"}},
      {"'a\\b'", {"a\\b"}},
      {"\"\\$x \\\" \\\\ \\a\"", {"$x \" \\ \\a"}},
      {"\"don't\"", {"don't"}},
      {"a\\\nb", {"ab"}},
      {"$HOME `id` *", {"$HOME", "`id`", "*"}},
      {"", {}},
      {"   ", {}},
  };
  for (const auto& [text, expected] : cases) {
    std::vector<std::string> words;
    ASSERT_TRUE(SplitCommandWords(text, &words).ok()) << text;
    EXPECT_EQ(words, expected) << text;
  }
}

TEST(SplitCommandWordsTest, RefusesUnbalancedQuotesAndTrailingBackslash) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ssh -i '/key", "unclosed ' at offset 7"},
      {"ssh -o \"a", "unclosed \" at offset 7"},
      {"ssh \"a\\\"", "unclosed \" at offset 4"},
      {"ssh \\", "trailing backslash at offset 4"},
  };
  for (const auto& [text, message] : cases) {
    std::vector<std::string> words;
    Status status = SplitCommandWords(text, &words);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << text;
    EXPECT_EQ(status.message(), message) << text;
  }
}

// Arguments that would run `touch MARKER` if a quote were wrong anywhere.
std::vector<std::string> NastyArguments(const std::string& marker) {
  return {
      "x'; touch " + marker + "; '",
      "$(touch " + marker + ")",
      "`touch " + marker + "`",
      "\"; touch " + marker + "; \"",
      "; touch " + marker,
      "| touch " + marker,
      "\ntouch " + marker + "\n",
      "&& touch " + marker + " &",
      "'\\''",
      "\\",
      "it's \"quoted\"",
      "  spaced  out  ",
      "",
      "*",
      "~root",
      "A=B",
      "$HOME ${PATH} $1 $@",
      "\xff\xfe\x80 not UTF-8 \xc3",
      "tab\there",
      "-n",
  };
}

// What `printf '%s\0' ARGS...` prints.
std::string NulTerminated(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& arg : args) out += arg + '\0';
  return out;
}

const char kPrintArgs[] = "printf '%s\\0' ";

TEST(ShellQuoteTest, ShReadsBackEveryArgumentAndRunsNothing) {
  TempDir dir;
  std::string marker = dir.Sub("pwned");
  std::vector<std::string> args = NastyArguments(marker);

  ChildProcess sh({"/bin/sh", "-c", kPrintArgs + ShellCommand(args)});
  ASSERT_EQ(sh.Wait(std::chrono::seconds(30)), 0) << sh.stderr_text();
  EXPECT_EQ(sh.stdout_text(), NulTerminated(args));
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(ShellQuoteTest, ARemoteShellThroughSshReadsBackEveryArgumentAndRunsNothing) {
  SshdServer sshd;
  if (!sshd.status().ok()) GTEST_SKIP() << sshd.status().message();
  TempDir dir;
  std::string marker = dir.Sub("pwned");
  std::vector<std::string> args = NastyArguments(marker);

  std::vector<std::string> argv = sshd.SshCommand();
  argv.insert(argv.end(), {"--", "root@127.0.0.1", kPrintArgs + ShellCommand(args)});
  ChildProcess ssh(argv);
  ASSERT_EQ(ssh.Wait(std::chrono::seconds(60)), 0) << ssh.stderr_text();
  EXPECT_EQ(ssh.stdout_text(), NulTerminated(args));
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(ShellQuoteTest, SplittingAQuotedCommandGivesBackItsWords) {
  std::vector<std::string> args = NastyArguments("/tmp/pwned");
  std::vector<std::string> words;
  ASSERT_TRUE(SplitCommandWords(ShellCommand(args), &words).ok());
  EXPECT_EQ(words, args);
}

}  // namespace
}  // namespace xfer::cli
