#include "firewall.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "run_command.h"

namespace xfer::cli {

namespace {

// nft and iptables answer in milliseconds; a hung one (a stuck xtables lock) must not hold up
// the transfer, nor keep a dying xfer-recv alive.
constexpr std::chrono::seconds kCommandTimeout{10};

struct Chain {
  std::string family, table, name;
};

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  std::string word;
  while (in >> word) words.push_back(word);
  return words;
}

// Newer nft versions quote names that could be read as keywords.
std::string Unquote(const std::string& word) {
  if (word.size() >= 2 && word.front() == '"' && word.back() == '"') {
    return word.substr(1, word.size() - 2);
  }
  return word;
}

// The base chains hooked on input in the families that see IP packets, from `nft list chains`:
//   table inet filter {
//           chain input {
//                   type filter hook input priority filter; policy drop;
std::vector<Chain> InputChains(const std::string& listing) {
  std::vector<Chain> chains;
  std::istringstream lines(listing);
  std::string line, family, table, chain;
  while (std::getline(lines, line)) {
    std::vector<std::string> words = Words(line);
    if (words.size() >= 3 && words[0] == "table") {
      family = words[1];
      table = Unquote(words[2]);
    } else if (words.size() >= 2 && words[0] == "chain") {
      chain = Unquote(words[1]);
    } else if (!words.empty() && words[0] == "type") {
      auto hook = std::find(words.begin(), words.end(), "hook");
      bool on_input = hook != words.end() && hook + 1 != words.end() && hook[1] == "input";
      bool sees_ip = family == "ip" || family == "ip6" || family == "inet";
      if (on_input && sees_ip) chains.push_back({family, table, chain});
    }
  }
  return chains;
}

// The handle in nft --echo --handle output: "insert rule ... comment \"xfer-recv 7\" # handle 12".
std::string EchoedHandle(const std::string& echo) {
  constexpr std::string_view kMarker = "# handle ";
  size_t at = echo.find(kMarker);
  if (at == std::string::npos) return "";
  size_t begin = at + kMarker.size();
  size_t end = echo.find_first_not_of("0123456789", begin);
  return echo.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// Whether `nft -a list chain` output holds the rule with that handle and our comment.
bool ListingHasRule(const std::string& listing, const std::string& handle,
                    const std::string& comment) {
  std::istringstream lines(listing);
  std::string line;
  std::string suffix = "# handle " + handle;
  while (std::getline(lines, line)) {
    if (line.ends_with(suffix) && line.find("comment \"" + comment + "\"") != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

FirewallOpening::FirewallOpening(LogCallback log, pid_t owner)
    : log_(std::move(log)), comment_("xfer-recv " + std::to_string(owner)) {}

FirewallOpening::~FirewallOpening() {
  Status status = Close();
  if (!status.ok() && log_) log_(LogLevel::kWarning, "firewall: " + status.message());
}

Status FirewallOpening::Open(const std::string& peer, uint16_t port) {
  std::string context = "opening the firewall for " + peer + " to port " + std::to_string(port);
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(peer.c_str(), nullptr, &hints, &found);
  if (rc != 0) return Status(Code::kInvalidArgument, context + ": " + gai_strerror(rc));
  std::vector<Address> addresses;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw =
        ai->ai_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr);
    if (inet_ntop(ai->ai_family, raw, text, sizeof text) == nullptr) continue;
    Address address{ai->ai_family == AF_INET6, text};
    bool seen = std::any_of(addresses.begin(), addresses.end(),
                            [&](const Address& a) { return a.text == address.text; });
    if (!seen) addresses.push_back(address);
  }
  freeaddrinfo(found);

  std::string nft = FindProgram("nft");
  Status status =
      nft.empty() ? OpenWithIptables(addresses, port) : OpenWithNft(nft, addresses, port);
  return status.ok() ? status : status.WithContext(context);
}

Status FirewallOpening::OpenWithNft(const std::string& nft, const std::vector<Address>& addresses,
                                    uint16_t port) {
  nft_ = nft;
  std::string listing;
  XFER_RETURN_IF_ERROR(RunCommand({nft, "list", "chains"}, kCommandTimeout, &listing));
  for (const Chain& chain : InputChains(listing)) {
    for (const Address& address : addresses) {
      if ((chain.family == "ip" && address.ipv6) || (chain.family == "ip6" && !address.ipv6)) {
        continue;
      }
      std::string echo;
      XFER_RETURN_IF_ERROR(
          RunCommand({nft, "--echo", "--handle", "insert", "rule", chain.family, chain.table,
                      chain.name, address.ipv6 ? "ip6" : "ip", "saddr", address.text, "tcp",
                      "dport", std::to_string(port), "accept", "comment", "\"" + comment_ + "\""},
                     kCommandTimeout, &echo));
      std::string handle = EchoedHandle(echo);
      std::string where = chain.family + " " + chain.table + " " + chain.name;
      if (handle.empty()) {
        return Status(Code::kIoError, "nft did not tell the handle of the rule added to " + where);
      }
      nft_rules_.push_back({chain.family, chain.table, chain.name, handle});
      if (log_) {
        log_(LogLevel::kInfo, "firewall: accepting TCP from " + address.text + " to port " +
                                  std::to_string(port) + " (nft " + where + ", handle " + handle +
                                  ")");
      }
    }
  }
  // Nothing else filters what arrives, so the sender gets in as it is.
  if (nft_rules_.empty() && log_) {
    log_(LogLevel::kInfo, "firewall: no nftables chain filters input; nothing to open");
  }
  return Status::Ok();
}

Status FirewallOpening::OpenWithIptables(const std::vector<Address>& addresses, uint16_t port) {
  for (const Address& address : addresses) {
    const char* name = address.ipv6 ? "ip6tables" : "iptables";
    std::string program = FindProgram(name);
    if (program.empty()) {
      std::string why = std::string("neither nft nor ") + name +
                        " is installed (searched $PATH, /usr/sbin and /sbin)";
      return Status(Code::kInvalidArgument, why);
    }
    std::vector<std::string> spec = {
        "INPUT", "-s",      address.text, "-p",     "tcp", "--dport", std::to_string(port),
        "-m",    "comment", "--comment",  comment_, "-j",  "ACCEPT"};
    std::vector<std::string> argv = {program, "-w", "5", "-I"};
    argv.insert(argv.end(), spec.begin(), spec.end());
    std::string ignored;
    XFER_RETURN_IF_ERROR(RunCommand(argv, kCommandTimeout, &ignored));
    iptables_rules_.push_back({program, spec});
    if (log_) {
      log_(LogLevel::kInfo, "firewall: accepting TCP from " + address.text + " to port " +
                                std::to_string(port) + " (" + name + " INPUT)");
    }
  }
  return Status::Ok();
}

Status FirewallOpening::RemoveNftRule(const NftRule& rule) {
  std::string where = rule.family + " " + rule.table + " " + rule.chain;
  std::string listing;
  XFER_RETURN_IF_ERROR(
      RunCommand({nft_, "-a", "list", "chain", rule.family, rule.table, rule.chain},
                 kCommandTimeout, &listing));
  if (!ListingHasRule(listing, rule.handle, comment_)) {
    if (log_) {
      log_(LogLevel::kInfo,
           "firewall: our rule in nft " + where + " is gone already (handle " + rule.handle + ")");
    }
    return Status::Ok();
  }
  std::string ignored;
  XFER_RETURN_IF_ERROR(RunCommand(
      {nft_, "delete", "rule", rule.family, rule.table, rule.chain, "handle", rule.handle},
      kCommandTimeout, &ignored));
  if (log_) log_(LogLevel::kInfo, "firewall: removed the rule in nft " + where);
  return Status::Ok();
}

Status FirewallOpening::Close() {
  Status first;
  auto keep_first = [&first](const Status& status, const std::string& context) {
    if (first.ok() && !status.ok()) first = status.WithContext(context);
  };
  for (const NftRule& rule : nft_rules_) {
    std::string where = rule.family + " " + rule.table + " " + rule.chain;
    keep_first(RemoveNftRule(rule),
               "removing the firewall rule from nft " + where + " (handle " + rule.handle + ")");
  }
  nft_rules_.clear();
  for (const IptablesRule& rule : iptables_rules_) {
    std::vector<std::string> argv = {rule.program, "-w", "5", "-D"};
    argv.insert(argv.end(), rule.spec.begin(), rule.spec.end());
    std::string ignored;
    keep_first(RunCommand(argv, kCommandTimeout, &ignored),
               "removing the firewall rule from " + rule.program + " INPUT");
  }
  iptables_rules_.clear();
  return first;
}

}  // namespace xfer::cli
