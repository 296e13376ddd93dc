#include "transfer_harness.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>

#include "xfer/ticket.h"

namespace xfer::testing {

std::unique_ptr<ChildProcess> StartReceiver(const std::string& dest_dir,
                                            const std::vector<std::string>& extra_args,
                                            std::string* ticket, const std::string& stdin_line) {
  std::vector<std::string> argv = {XFER_RECV_BIN_PATH, "--listen", "127.0.0.1", "--timeout", "60"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  argv.push_back(dest_dir);
  auto receiver = std::make_unique<ChildProcess>(argv);
  if (!stdin_line.empty()) receiver->WriteStdin(stdin_line + "\n");
  *ticket = receiver->ReadStdoutLine();
  return receiver;
}

std::unique_ptr<ChildProcess> StartSender(const std::string& ticket,
                                          const std::vector<std::string>& paths,
                                          const std::vector<std::string>& extra_args) {
  return StartSenderToAll({ticket}, paths, extra_args);
}

std::unique_ptr<ChildProcess> StartSenderToAll(const std::vector<std::string>& tickets,
                                               const std::vector<std::string>& paths,
                                               const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {XFER_SEND_BIN_PATH};
  std::string ticket_lines;
  for (const std::string& ticket : tickets) {
    argv.insert(argv.end(), {"--to", "127.0.0.1"});
    ticket_lines += ticket + "\n";
  }
  // A test may give its own.
  if (std::find(extra_args.begin(), extra_args.end(), "--timeout") == extra_args.end()) {
    argv.insert(argv.end(), {"--timeout", "60"});
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  argv.insert(argv.end(), paths.begin(), paths.end());
  auto sender = std::make_unique<ChildProcess>(argv);
  sender->WriteStdin(ticket_lines);
  sender->CloseStdin();
  return sender;
}

std::string TicketWithPort(const std::string& text, uint16_t port) {
  Ticket ticket;
  EXPECT_TRUE(Ticket::Parse(text, &ticket).ok());
  ticket.port = port;
  return ticket.Format();
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> ListDirIgnoringStaging(const std::string& dir) {
  std::vector<std::string> names = ListDir(dir);
  std::erase_if(names, [](const std::string& n) { return n.starts_with(".xfer-staging-"); });
  return names;
}

void WriteRandomFile(const std::string& path, size_t size, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string block(1 << 16, '\0');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (size_t done = 0; done < size; done += block.size()) {
    for (size_t i = 0; i < block.size(); i += 8) {
      uint64_t v = rng();
      std::memcpy(&block[i], &v, 8);
    }
    out.write(block.data(), static_cast<std::streamsize>(std::min(block.size(), size - done)));
  }
  ASSERT_TRUE(out.good()) << path;
}

}  // namespace xfer::testing
