// The man pages (man/*.1) against the programs they document: the OPTIONS section of each page
// has an entry for every option the program's --help prints and for no other, and groff formats
// every page without a warning. A page goes stale the day an option is added, renamed or
// removed; these tests say so that day.
//
// How an option is written in a page: in the tag line of a .TP entry, with every hyphen escaped
// ("\-\-no\-sync", "\-0"), which renders as the ASCII hyphen a reader can paste into a shell.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "child_process.h"
#include "program_paths.h"
#include "temp_dir.h"

namespace xfer::testing {
namespace {

struct Page {
  std::string program;  // as the page names it: xfer, xfer-send, xfer-recv
  std::string binary;   // where CMake built it
  std::string page;     // man/PROGRAM.1
};

// Failure messages name the page's program instead of dumping the struct's bytes.
void PrintTo(const Page& page, std::ostream* out) { *out << page.program; }

std::string TestName(const ::testing::TestParamInfo<Page>& info) {
  std::string name = info.param.program;
  for (char& c : name) c = c == '-' ? '_' : c;
  return name;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Join(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : " ") + name;
  return out;
}

// The option names CLI11's --help lists: after "Options:", each line whose first word starts
// with '-' is an option ("-h,--help", "--compress,--no-compress{false}", "--type TEXT:{...}").
// Descriptions are indented far deeper (30 columns) and never taken for options.
std::set<std::string> OptionsInHelp(const std::string& help) {
  std::set<std::string> names;
  bool in_options = false;
  for (const std::string& line : Lines(help)) {
    size_t indent = line.find_first_not_of(' ');
    if (indent == std::string::npos) continue;
    if (line.compare(indent, std::string::npos, "Options:") == 0) {
      in_options = true;
      continue;
    }
    if (!in_options || indent > 8 || line[indent] != '-') continue;
    std::istringstream forms(line.substr(indent, line.find(' ', indent) - indent));
    for (std::string form; std::getline(forms, form, ',');) {
      form = form.substr(0, form.find_first_of("{="));
      if (form.size() >= 2 && form[0] == '-') names.insert(form);
    }
  }
  return names;
}

// One option written with escaped hyphens at tag[at] ("\-\-no\-sync" -> "--no-sync"); empty
// when none starts there.
std::string EscapedOptionAt(const std::string& tag, size_t* at) {
  auto hyphen = [&](size_t i) { return tag.compare(i, 2, "\\-") == 0; };
  auto alnum = [&](size_t i) {
    return i < tag.size() && std::isalnum(static_cast<unsigned char>(tag[i]));
  };
  size_t i = *at;
  std::string name;
  while (hyphen(i) && name.size() < 2) {
    name += '-';
    i += 2;
  }
  if (name.empty() || !alnum(i)) return "";
  while (alnum(i) || (hyphen(i) && alnum(i + 2))) {
    if (hyphen(i)) {
      name += '-';
      i += 2;
    } else {
      name += tag[i++];
    }
  }
  *at = i;
  return name;
}

// The options the page's OPTIONS section (its .SS subsections included) has entries for: those
// in the tag line that follows each .TP.
std::set<std::string> OptionsInManPage(const std::string& page) {
  std::set<std::string> names;
  std::vector<std::string> lines = Lines(page);
  bool in_options = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind(".SH", 0) == 0) in_options = lines[i] == ".SH OPTIONS";
    if (!in_options || lines[i] != ".TP" || i + 1 == lines.size()) continue;
    const std::string& tag = lines[i + 1];
    for (size_t at = 0; at < tag.size();) {
      // An option starts a word: "xfer\-recv" in a tag holds no option.
      bool starts_word = at == 0 || !std::isalnum(static_cast<unsigned char>(tag[at - 1]));
      std::string name = starts_word ? EscapedOptionAt(tag, &at) : "";
      if (name.empty()) {
        ++at;
      } else {
        names.insert(name);
      }
    }
  }
  return names;
}

std::string HelpOf(const std::string& binary) {
  ChildProcess program({binary, "--help"});
  EXPECT_EQ(program.Wait(), 0) << binary << " --help: " << program.stderr_text();
  return program.stdout_text();
}

// The full path of program on PATH; empty when it is not there.
std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

class ManPageTest : public ::testing::TestWithParam<Page> {
 protected:
  void SetUp() override {
    help_options_ = OptionsInHelp(HelpOf(GetParam().binary));
    page_ = ReadFile(GetParam().page);
    page_options_ = OptionsInManPage(page_);
    // If either parser lost its way, the comparisons below would compare nothing.
    ASSERT_TRUE(help_options_.count("--help") && help_options_.count("--version"))
        << "no --help/--version found in " << GetParam().program
        << " --help: " << Join(help_options_);
    ASSERT_GE(help_options_.size(), 20u) << Join(help_options_);
    ASSERT_FALSE(page_options_.empty()) << "no option entries found in " << GetParam().page;
  }

  std::set<std::string> help_options_;
  std::string page_;
  std::set<std::string> page_options_;
};

TEST_P(ManPageTest, HasAnEntryForEveryOptionHelpPrints) {
  std::set<std::string> missing;
  for (const std::string& name : help_options_) {
    if (page_options_.count(name) == 0) missing.insert(name);
  }
  EXPECT_TRUE(missing.empty()) << GetParam().page << " has no OPTIONS entry (.TP, then a tag "
                               << "line with \\- for each hyphen) for: " << Join(missing);
}

TEST_P(ManPageTest, DocumentsNoOptionTheProgramLacks) {
  std::set<std::string> stale;
  for (const std::string& name : page_options_) {
    if (help_options_.count(name) == 0) stale.insert(name);
  }
  EXPECT_TRUE(stale.empty()) << GetParam().page << " documents options that " << GetParam().program
                             << " --help does not list: " << Join(stale);
}

TEST_P(ManPageTest, NamesTheProjectVersion) {
  std::string th;
  for (const std::string& line : Lines(page_)) {
    if (line.rfind(".TH ", 0) == 0) th = line;
  }
  EXPECT_NE(th.find("\"xfer " XFER_VERSION "\""), std::string::npos)
      << GetParam().page << ": the .TH line should name \"xfer " XFER_VERSION
      << "\", the version in CMakeLists.txt: " << th;
}

TEST_P(ManPageTest, IsPlainAscii) {
  // groff reads its input as Latin-1 unless preconv runs first: other bytes would render as
  // garbage on some systems. Non-ASCII characters are written as groff escapes (\(em, \(bu).
  for (size_t i = 0; i < page_.size(); ++i) {
    ASSERT_LT(static_cast<unsigned char>(page_[i]), 0x80)
        << GetParam().page << ": a non-ASCII byte at offset " << i;
  }
}

TEST_P(ManPageTest, FormatsWithoutGroffWarnings) {
  std::string groff = FindOnPath("groff");
  if (groff.empty()) GTEST_SKIP() << "groff is not installed (Debian: groff-base)";
  // The default width of a terminal, and a narrow one, where long words break lines badly.
  for (std::string width : {"78n", "60n"}) {
    ChildProcess format({groff, "-man", "-Tutf8", "-ww", "-z", "-rLL=" + width, GetParam().page});
    EXPECT_EQ(format.Wait(), 0) << format.stderr_text();
    EXPECT_EQ(format.stderr_text(), "") << GetParam().page << " at line length " << width;
  }
}

INSTANTIATE_TEST_SUITE_P(
    ManPage, ManPageTest,
    ::testing::Values(Page{"xfer", XFER_ORCHESTRATOR_BIN_PATH, XFER_MAN_DIR "/xfer.1"},
                      Page{"xfer-send", XferSendPath(), XFER_MAN_DIR "/xfer-send.1"},
                      Page{"xfer-recv", XferRecvPath(), XFER_MAN_DIR "/xfer-recv.1"}),
    TestName);

// The parsers above, on the shapes they must handle, so that a parser that finds nothing cannot
// pass the comparisons vacuously.
TEST(ManPageParsingTest, ReadsEveryFormOfAnOptionFromHelp) {
  std::string help =
      "Usage: x [OPTIONS]\n"
      "  --not-an-option-before-the-options-line\n"
      "Options:\n"
      "  -h,--help                   Print this help message and exit\n"
      "  --compress,--no-compress{false}\n"
      "                              --described-not-an-option\n"
      "  --type TEXT:{tree,mariabackup}=tree\n"
      "  -0,--null                   With --files-from: NUL\n"
      "[Option Group: --type mariabackup]\n"
      "  Options:\n"
      "    --backup-option TEXT ...  An option, as --backup-option=--name=value\n";
  std::set<std::string> expected = {"-h",     "--help", "--compress", "--no-compress",
                                    "--type", "-0",     "--null",     "--backup-option"};
  EXPECT_EQ(OptionsInHelp(help), expected);
}

TEST(ManPageParsingTest, ReadsOptionEntriesOnlyFromTheOptionsSection) {
  std::string page =
      ".SH DESCRIPTION\n"
      ".TP\n"
      ".B \\-\\-in\\-description\n"
      ".SH OPTIONS\n"
      ".TP\n"
      ".BR \\-C \", \" \\-\\-directory \" \\fIDIR\\fP\"\n"
      "Mentions \\-\\-not\\-a\\-tag in its text.\n"
      ".SS More\n"
      ".TP\n"
      ".BI \\-\\-backup\\-option= OPT\n"
      ".TP\n"
      ".B xfer\\-recv \\-\\-stdout\n"
      ".SH FILES\n"
      ".TP\n"
      ".I DIR/.xfer\\-staging\\-HEX\n";
  std::set<std::string> expected = {"-C", "--directory", "--backup-option", "--stdout"};
  EXPECT_EQ(OptionsInManPage(page), expected);
}

}  // namespace
}  // namespace xfer::testing
