#include "shell_quote.h"

namespace xfer::cli {

namespace {

bool IsPlain(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  // Not '=' (a first word "A=B" is an assignment), '~' (home expansion), '#' (a comment).
  return std::string_view("_@%+,./:-").find(c) != std::string_view::npos;
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

}  // namespace

std::string ShellQuote(std::string_view arg) {
  bool plain = !arg.empty();
  for (char c : arg) plain = plain && IsPlain(c);
  if (plain) return std::string(arg);
  std::string quoted = "'";
  for (char c : arg) {
    if (c == '\'') {
      quoted += "'\\''";  // close the quotes, an escaped quote, reopen
    } else {
      quoted += c;
    }
  }
  quoted += '\'';
  return quoted;
}

std::string ShellCommand(const std::vector<std::string>& argv) {
  std::string command;
  for (const std::string& arg : argv) {
    if (!command.empty()) command += ' ';
    command += ShellQuote(arg);
  }
  return command;
}

Status SplitCommandWords(std::string_view text, std::vector<std::string>* words) {
  words->clear();
  std::string word;
  bool in_word = false;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (IsBlank(c)) {
      if (in_word) words->push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
      continue;
    }
    if (c == '\\') {
      if (i + 1 == text.size()) {
        return Status(Code::kInvalidArgument, "trailing backslash at offset " + std::to_string(i));
      }
      // Backslash-newline joins lines and adds nothing, not even a word boundary.
      if (text[i + 1] != '\n') {
        word += text[i + 1];
        in_word = true;
      }
      i += 2;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      size_t close = text.find('\'', i + 1);
      if (close == std::string_view::npos) {
        return Status(Code::kInvalidArgument, "unclosed ' at offset " + std::to_string(i));
      }
      word += text.substr(i + 1, close - i - 1);
      i = close + 1;
      continue;
    }
    if (c == '"') {
      size_t open = i++;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size() &&
            std::string_view("$`\"\\\n").find(text[i + 1]) != std::string_view::npos) {
          if (text[i + 1] != '\n') word += text[i + 1];
          i += 2;
        } else {
          word += text[i++];
        }
      }
      if (i == text.size()) {
        return Status(Code::kInvalidArgument, "unclosed \" at offset " + std::to_string(open));
      }
      ++i;
      continue;
    }
    word += c;
    ++i;
  }
  if (in_word) words->push_back(std::move(word));
  return Status::Ok();
}

Status CommandArgv(std::string_view text, bool shell, std::vector<std::string>* argv) {
  std::vector<std::string> words;
  if (shell) {
    words = {"/bin/sh", "-c", std::string(text)};
  } else {
    XFER_RETURN_IF_ERROR(SplitCommandWords(text, &words));
  }
  if (words.empty() || words[0].empty()) {
    return Status(Code::kInvalidArgument, "the command is empty");
  }
  *argv = std::move(words);
  return Status::Ok();
}

}  // namespace xfer::cli
