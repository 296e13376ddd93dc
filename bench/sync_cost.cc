// sync_cost: for many small files, is one syncfs() cheaper than an fsync of every file and
// directory? (DESIGN.md section 6 asks; StagingDir::Sync uses the answer.) Each round writes a
// fresh tree for each method, in alternating order, and times only the sync step.
//
//   sync_cost DIR [files=20000] [dirs=100] [size=4096] [rounds=3]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  perror(what.c_str());
  exit(1);
}

void SyncFd(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) Die("fsync " + path);
  close(fd);
}

std::string FileName(const std::string& root, int file, int dirs) {
  return root + "/d" + std::to_string(file % dirs) + "/f" + std::to_string(file);
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR [files=20000] [dirs=100] [size=4096] [rounds=3]\n", argv[0]);
    return 2;
  }
  const std::string base = argv[1];
  const int files = argc > 2 ? atoi(argv[2]) : 20000;
  const int dirs = argc > 3 ? atoi(argv[3]) : 100;
  const size_t size = argc > 4 ? strtoul(argv[4], nullptr, 10) : 4096;
  const int rounds = argc > 5 ? atoi(argv[5]) : 3;
  const std::vector<char> data(size, 'x');
  int base_fd = open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (base_fd < 0) Die(base);

  std::vector<double> write_s, fsync_s, syncfs_s;
  for (int round = 0; round < rounds; ++round) {
    for (int step = 0; step < 2; ++step) {
      const bool use_fsync = (round + step) % 2 == 0;  // alternate which method goes first
      const std::string root =
          base + "/sync-cost-" + std::to_string(round) + "-" + (use_fsync ? "f" : "s");
      if (syncfs(base_fd) != 0) Die("syncfs");  // start with nothing dirty (e.g. the last removal)

      Clock::time_point start = Clock::now();
      if (mkdir(root.c_str(), 0755) != 0) Die(root);
      for (int d = 0; d < dirs; ++d) {
        std::string dir = root + "/d" + std::to_string(d);
        if (mkdir(dir.c_str(), 0755) != 0) Die(dir);
      }
      for (int f = 0; f < files; ++f) {
        std::string name = FileName(root, f, dirs);
        int fd = open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, data.data(), size) != static_cast<ssize_t>(size)) Die(name);
        close(fd);
      }
      write_s.push_back(Seconds(start));

      start = Clock::now();
      if (use_fsync) {  // what a receiver would do after extraction closed every file: reopen
        for (int f = 0; f < files; ++f) SyncFd(FileName(root, f, dirs));
        for (int d = 0; d < dirs; ++d) SyncFd(root + "/d" + std::to_string(d));
        SyncFd(root);
        SyncFd(base);
        fsync_s.push_back(Seconds(start));
      } else {
        if (syncfs(base_fd) != 0) Die("syncfs");
        syncfs_s.push_back(Seconds(start));
      }
      printf("round %d %-6s write %.3f s, sync %.3f s\n", round, use_fsync ? "fsync" : "syncfs",
             write_s.back(), use_fsync ? fsync_s.back() : syncfs_s.back());
      std::filesystem::remove_all(root);
    }
  }
  printf(
      "median of %d rounds, %d files of %zu B in %d dirs: write %.3f s; fsync each %.3f s; "
      "one syncfs %.3f s\n",
      rounds, files, size, dirs, Median(write_s), Median(fsync_s), Median(syncfs_s));
  close(base_fd);
  return 0;
}
