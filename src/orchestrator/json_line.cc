#include "json_line.h"

#include <cmath>
#include <cstdlib>

namespace xfer::orchestrator {

namespace {

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  char Peek() {
    SkipSpace();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }

  bool ReadString(std::string* out) {
    if (!Consume('"')) return false;
    out->clear();
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        *out += c;
        continue;
      }
      if (pos_ >= text_.size()) return false;
      char escape = text_[pos_++];
      switch (escape) {
        case '"':
        case '\\':
        case '/':
          *out += escape;
          break;
        case 'b':
          *out += '\b';
          break;
        case 'f':
          *out += '\f';
          break;
        case 'n':
          *out += '\n';
          break;
        case 'r':
          *out += '\r';
          break;
        case 't':
          *out += '\t';
          break;
        case 'u': {
          if (pos_ + 4 > text_.size()) return false;
          std::string hex(text_.substr(pos_, 4));
          pos_ += 4;
          char* end = nullptr;
          unsigned long code = std::strtoul(hex.c_str(), &end, 16);
          if (end != hex.c_str() + 4) return false;
          // xfer writes \u00XX for a raw byte (names are bytes, not text).
          if (code > 0xff) return false;
          *out += static_cast<char>(code);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  bool ReadNumber(double* out) {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < text_.size() &&
           std::string_view("+-0123456789.eE").find(text_[pos_]) != std::string_view::npos) {
      ++pos_;
    }
    if (pos_ == start) return false;
    std::string number(text_.substr(start, pos_ - start));
    char* end = nullptr;
    *out = std::strtod(number.c_str(), &end);
    return end == number.c_str() + number.size() && std::isfinite(*out);
  }

  bool ReadWord(std::string_view word) {
    SkipSpace();
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // Any value, discarded (nested objects and arrays).
  bool SkipValue(int depth = 0) {
    if (depth > 32) return false;
    char c = Peek();
    std::string ignored;
    double number;
    if (c == '"') return ReadString(&ignored);
    if (c == 't') return ReadWord("true");
    if (c == 'f') return ReadWord("false");
    if (c == 'n') return ReadWord("null");
    if (c == '[' || c == '{') {
      char close = c == '[' ? ']' : '}';
      Consume(c);
      if (Consume(close)) return true;
      do {
        if (c == '{' && !(ReadString(&ignored) && Consume(':'))) return false;
        if (!SkipValue(depth + 1)) return false;
      } while (Consume(','));
      return Consume(close);
    }
    return ReadNumber(&number);
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\n')) {
      ++pos_;
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// An array of strings; false (without consuming a usable value) for any other array.
bool ReadStringArray(Reader* reader, std::vector<std::string>* out, bool* was_strings) {
  Reader probe = *reader;
  *was_strings = false;
  if (!probe.Consume('[')) return false;
  std::vector<std::string> values;
  if (!probe.Consume(']')) {
    do {
      std::string value;
      if (probe.Peek() != '"' || !probe.ReadString(&value)) return reader->SkipValue();
      values.push_back(std::move(value));
    } while (probe.Consume(','));
    if (!probe.Consume(']')) return false;
  }
  *reader = probe;
  *out = std::move(values);
  *was_strings = true;
  return true;
}

}  // namespace

Status JsonLine::Parse(std::string_view text, JsonLine* out) {
  auto invalid = [&] {
    return Status(Code::kProtocol, "not a JSON object: " + std::string(text.substr(0, 200)));
  };
  Reader reader(text);
  JsonLine line;
  if (!reader.Consume('{')) return invalid();
  if (!reader.Consume('}')) {
    do {
      std::string key;
      if (!reader.ReadString(&key) || !reader.Consume(':')) return invalid();
      char c = reader.Peek();
      if (c == '"') {
        if (!reader.ReadString(&line.strings_[key])) return invalid();
      } else if (c == 't' || c == 'f') {
        if (reader.ReadWord("true")) {
          line.bools_[key] = true;
        } else if (reader.ReadWord("false")) {
          line.bools_[key] = false;
        } else {
          return invalid();
        }
      } else if (c == '[') {
        bool was_strings = false;
        if (!ReadStringArray(&reader, &line.string_arrays_[key], &was_strings)) return invalid();
        if (!was_strings) {
          line.string_arrays_.erase(key);
          line.others_[key] = true;
        }
      } else if (c == '{' || c == 'n') {
        if (!reader.SkipValue()) return invalid();
        line.others_[key] = true;
      } else {
        if (!reader.ReadNumber(&line.numbers_[key])) return invalid();
      }
    } while (reader.Consume(','));
    if (!reader.Consume('}')) return invalid();
  }
  if (!reader.AtEnd()) return invalid();
  *out = std::move(line);
  return Status::Ok();
}

bool JsonLine::Has(const std::string& key) const {
  return strings_.count(key) || numbers_.count(key) || bools_.count(key) ||
         string_arrays_.count(key) || others_.count(key);
}

std::string JsonLine::String(const std::string& key, const std::string& fallback) const {
  auto it = strings_.find(key);
  return it == strings_.end() ? fallback : it->second;
}

double JsonLine::Number(const std::string& key, double fallback) const {
  auto it = numbers_.find(key);
  return it == numbers_.end() ? fallback : it->second;
}

uint64_t JsonLine::Count(const std::string& key) const {
  double value = Number(key, -1);
  return value >= 0 && value < 1.8e19 ? static_cast<uint64_t>(value) : 0;
}

bool JsonLine::Bool(const std::string& key, bool fallback) const {
  auto it = bools_.find(key);
  return it == bools_.end() ? fallback : it->second;
}

std::vector<std::string> JsonLine::Strings(const std::string& key) const {
  auto it = string_arrays_.find(key);
  return it == string_arrays_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace xfer::orchestrator
