#include "host_spec.h"

#include <arpa/inet.h>

#include <string>

namespace xfer::orchestrator {

namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool OnlyOf(std::string_view text, std::string_view extra) {
  for (char c : text) {
    if (!IsAlnum(c) && extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// A DNS-ish name or an IPv4 address. A leading '-' would reach ssh as an option.
bool IsHostName(std::string_view name) {
  return !name.empty() && name[0] != '-' && name[0] != '.' && OnlyOf(name, "-._");
}

// "fe80::1" or "fe80::1%eth0".
bool IsIpv6(std::string_view text) {
  size_t percent = text.find('%');
  std::string address(text.substr(0, percent));
  in6_addr parsed;
  if (inet_pton(AF_INET6, address.c_str(), &parsed) != 1) return false;
  if (percent == std::string_view::npos) return true;
  std::string_view zone = text.substr(percent + 1);
  return !zone.empty() && OnlyOf(zone, "-._");
}

// Login names as ssh passes them on: no blanks, controls or brackets, and not option-like.
bool IsUser(std::string_view user) {
  if (user.empty() || user[0] == '-') return false;
  for (char c : user) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '[' || c == ']') return false;
  }
  return true;
}

}  // namespace

Status ParseHostPath(std::string_view operand, HostPath* out) {
  std::string quoted = "'" + std::string(operand) + "'";
  auto invalid = [](std::string message) {
    return Status(Code::kInvalidArgument, std::move(message));
  };
  size_t colon = operand.find(':');
  size_t bracket = operand.find('[');
  bool ipv6 = bracket != std::string_view::npos && bracket < colon;

  std::string_view user_at;  // "USER@" or ""
  std::string_view name;
  std::string_view path;
  if (ipv6) {
    size_t close = operand.find(']', bracket);
    if (close == std::string_view::npos) return invalid("unclosed '[' in " + quoted);
    user_at = operand.substr(0, bracket);
    name = operand.substr(bracket + 1, close - bracket - 1);
    std::string_view rest = operand.substr(close + 1);
    if (rest.empty()) return invalid(quoted + " has no ':PATH'");
    if (rest[0] != ':') return invalid("expected ':' after ']' in " + quoted);
    path = rest.substr(1);
    if (!user_at.empty() && user_at.back() != '@') {
      return invalid("expected USER@ before '[' in " + quoted);
    }
    if (!IsIpv6(name)) {
      return invalid("'" + std::string(name) + "' in " + quoted + " is not an IPv6 address");
    }
  } else {
    if (colon == std::string_view::npos) return invalid(quoted + " has no ':PATH'");
    std::string_view host_part = operand.substr(0, colon);
    path = operand.substr(colon + 1);
    // The last '@': ssh also splits there, so a user may itself hold an '@'.
    size_t at = host_part.rfind('@');
    if (at != std::string_view::npos) user_at = host_part.substr(0, at + 1);
    name = host_part.substr(user_at.size());
    if (name.empty()) return invalid("no host before ':' in " + quoted);
    if (!IsHostName(name)) {
      return invalid("'" + std::string(name) + "' in " + quoted + " is not a host name");
    }
  }
  std::string_view user = user_at.substr(0, user_at.empty() ? 0 : user_at.size() - 1);
  if (!user_at.empty() && !IsUser(user)) {
    return invalid("'" + std::string(user) + "' in " + quoted + " is not a user name");
  }
  if (path.empty()) return invalid(quoted + " has an empty PATH");

  out->host = std::string(name);
  out->path = std::string(path);
  out->local = user_at.empty() && !ipv6 && name == "localhost";
  out->ssh_target = out->local ? "" : std::string(user_at) + out->host;
  return Status::Ok();
}

}  // namespace xfer::orchestrator
