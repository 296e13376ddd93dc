// FirewallOpening: lets one sending host through this host's firewall to one TCP port, for as
// long as the object lives. xfer-recv --open-firewall-for runs it in its FirewallGuard process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "xfer/report.h"
#include "xfer/status.h"

namespace xfer::cli {

class FirewallOpening {
 public:
  // log receives one kInfo line per rule added or removed, and a kWarning when the destructor
  // cannot remove a rule. The rules carry the comment "xfer-recv OWNER": the process they are
  // for, whichever process adds them.
  FirewallOpening(LogCallback log, pid_t owner);
  // Close(), reporting a failure through log.
  ~FirewallOpening();
  FirewallOpening(const FirewallOpening&) = delete;
  FirewallOpening& operator=(const FirewallOpening&) = delete;

  // Accepts TCP from every address `peer` resolves to (a name, an IPv4 or an IPv6 address) to
  // `port`. With nft: a rule at the top of every base chain on the input hook, since a packet
  // must pass all of them; no such chain means nothing filters input and nothing is added.
  // Without nft: a rule at the top of iptables' (ip6tables') INPUT. On failure the rules added
  // so far stay recorded, and Close() removes them.
  Status Open(const std::string& peer, uint16_t port);

  // Removes every rule Open added, by nft handle (after checking the handle still names our
  // rule: a ruleset reloaded meanwhile may reuse it) or by the same iptables spec. Tries all of
  // them; returns the first failure.
  Status Close();

 private:
  struct Address {
    bool ipv6 = false;
    std::string text;  // numeric form
  };
  struct NftRule {
    std::string family, table, chain;
    std::string handle;
  };
  struct IptablesRule {
    std::string program;            // full path of iptables or ip6tables
    std::vector<std::string> spec;  // chain and match, as for -I and -D
  };

  Status OpenWithNft(const std::string& nft, const std::vector<Address>& addresses, uint16_t port);
  Status OpenWithIptables(const std::vector<Address>& addresses, uint16_t port);
  Status RemoveNftRule(const NftRule& rule);

  LogCallback log_;
  std::string comment_;  // marks our rules: "xfer-recv OWNER"
  std::string nft_;      // full path of nft, when the rules are nftables ones
  std::vector<NftRule> nft_rules_;
  std::vector<IptablesRule> iptables_rules_;
};

}  // namespace xfer::cli
