#include "staging_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <unordered_set>
#include <vector>

#include "temp_dir.h"

namespace xfer {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

const std::vector<std::string> kNames = {"db"};

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

mode_t Mode(const std::string& path) {
  struct stat st;
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* entry = readdir(d)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string RealPath(const std::string& path) {
  char* real = realpath(path.c_str(), nullptr);
  std::string result = real ? real : "";
  free(real);
  return result;
}

HeldFile Held(const std::string& path, uint64_t size, uint64_t have) {
  return HeldFile{path, size, have, {1, 2}, {size, have}};
}

uint64_t Allocated(const std::string& path) {
  struct stat st;
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

// What Open says of a journal: Code::kExists while a StagingDir holds it.
Status TryOpen(const std::string& journal_path) {
  ResumeJournal journal;
  std::vector<std::string> names;
  HeldFiles held;
  return ResumeJournal::Open(journal_path, &journal, &names, &held);
}

// Nests `depth` directories named `name` under root, with a file at the bottom. Built with *at
// calls, because the full path may be longer than PATH_MAX.
void MakeDeepTree(const std::string& root, int depth, const std::string& name) {
  int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << root;
  for (int i = 0; i < depth; ++i) {
    ASSERT_EQ(mkdirat(fd, name.c_str(), 0755), 0) << "level " << i;
    int child = openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(fd);
    ASSERT_GE(child, 0) << "level " << i;
    fd = child;
  }
  int file = openat(fd, "bottom", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  EXPECT_GE(file, 0);
  close(file);
  close(fd);
}

class StagingDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dest_ = tmp_.Sub("dest");
    ASSERT_EQ(mkdir(dest_.c_str(), 0755), 0);
    real_dest_ = RealPath(dest_);
  }

  // The staging directory, created and checked.
  StagingDir MakeStaging() {
    StagingDir staging;
    Status status = StagingDir::Create(dest_, kNames, &staging);
    EXPECT_TRUE(status.ok()) << status.message();
    return staging;
  }

  // Leaves a staging directory as an interrupted transfer of `names` would: every held file
  // written with its `have` bytes, the journal vouching for them. Returns its path.
  std::string Leave(const std::vector<std::string>& names, const std::vector<HeldFile>& held) {
    StagingDir staging;
    EXPECT_TRUE(StagingDir::Create(dest_, names, &staging).ok());
    for (const HeldFile& file : held) {
      for (size_t slash = file.path.find('/'); slash != std::string::npos;
           slash = file.path.find('/', slash + 1)) {
        mkdir((staging.path() + "/" + file.path.substr(0, slash)).c_str(), 0755);
      }
      WriteFile(staging.path() + "/" + file.path, std::string(file.have, 'x'));
    }
    Status status = staging.journal()->Record(held);
    EXPECT_TRUE(status.ok()) << status.message();
    staging.Keep();
    return staging.path();
  }

  // Adopt for kNames, expected to succeed.
  StagingDir Adopt(HeldFiles* held, uint64_t* allocated) {
    StagingDir adopted;
    Status status = StagingDir::Adopt(dest_, kNames, &adopted, held, allocated);
    EXPECT_TRUE(status.ok()) << status.message();
    return adopted;
  }

  TempDir tmp_;
  std::string dest_;
  std::string real_dest_;
};

TEST_F(StagingDirTest, CreateMakesHiddenPrivateDirectoryInsideDest) {
  StagingDir staging = MakeStaging();
  EXPECT_EQ(staging.dest_dir(), real_dest_);
  const std::string prefix = real_dest_ + "/.xfer-staging-";
  ASSERT_EQ(staging.path().rfind(prefix, 0), 0u) << staging.path();
  std::string suffix = staging.path().substr(prefix.size());
  EXPECT_EQ(suffix.size(), 16u);
  EXPECT_EQ(suffix.find_first_not_of("0123456789abcdef"), std::string::npos) << suffix;
  EXPECT_TRUE(S_ISDIR(Mode(staging.path())));
  EXPECT_EQ(Mode(staging.path()) & 07777, 0700u);
}

TEST_F(StagingDirTest, CreateGivesDistinctNames) {
  StagingDir first = MakeStaging();
  StagingDir second = MakeStaging();
  EXPECT_NE(first.path(), second.path());
}

TEST_F(StagingDirTest, CreateResolvesSymlinksInDest) {
  ASSERT_EQ(symlink(dest_.c_str(), tmp_.Sub("link").c_str()), 0);
  StagingDir staging;
  ASSERT_TRUE(StagingDir::Create(tmp_.Sub("link") + "/", kNames, &staging).ok());
  EXPECT_EQ(staging.dest_dir(), real_dest_);
  EXPECT_EQ(RealPath(staging.path()), staging.path());
  EXPECT_EQ(staging.path().front(), '/');
}

TEST_F(StagingDirTest, CreateFailsForMissingDest) {
  StagingDir staging;
  Status status = StagingDir::Create(tmp_.Sub("missing"), kNames, &staging);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message(), "destination " + tmp_.Sub("missing") + ": No such file or directory");
  EXPECT_TRUE(staging.path().empty());
}

TEST_F(StagingDirTest, CreateFailsForFileAsDest) {
  WriteFile(tmp_.Sub("file"), "x");
  StagingDir staging;
  Status status = StagingDir::Create(tmp_.Sub("file"), kNames, &staging);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message(), "destination " + tmp_.Sub("file") + " is not a directory");
  EXPECT_EQ(List(tmp_.path()), (std::vector<std::string>{"dest", "file"}));
}

TEST_F(StagingDirTest, DestructorRemovesUncommittedTree) {
  {
    StagingDir staging = MakeStaging();
    ASSERT_EQ(mkdir((staging.path() + "/dir").c_str(), 0755), 0);
    WriteFile(staging.path() + "/dir/file", "data");
    WriteFile(staging.path() + "/top", "data");
  }
  EXPECT_TRUE(List(dest_).empty());
}

TEST_F(StagingDirTest, DestructorRemovesTreeDeeperThanPathMax) {
  {
    StagingDir staging = MakeStaging();
    MakeDeepTree(staging.path(), 50, std::string(100, 'd'));  // > 5,000 characters
  }
  EXPECT_TRUE(List(dest_).empty());
}

TEST_F(StagingDirTest, DestructorRemovesUnreadableDirectory) {
  {
    StagingDir staging = MakeStaging();
    std::string locked = staging.path() + "/locked";
    ASSERT_EQ(mkdir(locked.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((locked + "/inner").c_str(), 0755), 0);
    WriteFile(locked + "/inner/file", "data");
    ASSERT_EQ(chmod((locked + "/inner").c_str(), 0), 0);
    ASSERT_EQ(chmod(locked.c_str(), 0), 0);
  }
  EXPECT_TRUE(List(dest_).empty());
}

TEST_F(StagingDirTest, DestructorDoesNotFollowSymlinks) {
  std::string outside = tmp_.Sub("outside");
  ASSERT_EQ(mkdir(outside.c_str(), 0755), 0);
  WriteFile(outside + "/keep", "precious");
  {
    StagingDir staging = MakeStaging();
    ASSERT_EQ(symlink(outside.c_str(), (staging.path() + "/dir-link").c_str()), 0);
    ASSERT_EQ(symlink((outside + "/keep").c_str(), (staging.path() + "/file-link").c_str()), 0);
  }
  EXPECT_TRUE(List(dest_).empty());
  EXPECT_EQ(ReadFile(outside + "/keep"), "precious");
}

TEST_F(StagingDirTest, RemoveRemovesNowAndDestructorAfterwardsIsHarmless) {
  StagingDir staging = MakeStaging();
  WriteFile(staging.path() + "/file", "data");
  staging.Remove();
  EXPECT_TRUE(List(dest_).empty());
  staging.Remove();
}

TEST_F(StagingDirTest, MovedFromObjectRemovesNothing) {
  StagingDir target;
  {
    StagingDir source = MakeStaging();
    target = std::move(source);
  }
  EXPECT_TRUE(Exists(target.path()));
  target = StagingDir();  // assigning over a live staging directory removes it
  EXPECT_TRUE(List(dest_).empty());
}

TEST_F(StagingDirTest, SyncSucceeds) {
  StagingDir staging = MakeStaging();
  WriteFile(staging.path() + "/file", "data");
  Status status = staging.Sync();
  EXPECT_TRUE(status.ok()) << status.message();
}

TEST_F(StagingDirTest, CommitMovesEntriesAndLeavesNoStagingDirectory) {
  {
    StagingDir staging = MakeStaging();
    WriteFile(staging.path() + "/file", "file data");
    ASSERT_EQ(mkdir((staging.path() + "/dir").c_str(), 0755), 0);
    WriteFile(staging.path() + "/dir/inner", "inner data");
    Status status = staging.Commit({"file", "dir"}, /*overwrite=*/false);
    ASSERT_TRUE(status.ok()) << status.message();
  }
  EXPECT_EQ(List(dest_), (std::vector<std::string>{"dir", "file"}));
  EXPECT_EQ(ReadFile(dest_ + "/file"), "file data");
  EXPECT_EQ(ReadFile(dest_ + "/dir/inner"), "inner data");
}

TEST_F(StagingDirTest, CommitRefusesExistingTargetAndMovesNothing) {
  WriteFile(dest_ + "/b", "old");
  {
    StagingDir staging = MakeStaging();
    WriteFile(staging.path() + "/a", "new a");
    WriteFile(staging.path() + "/b", "new b");
    Status status = staging.Commit({"a", "b"}, /*overwrite=*/false);
    EXPECT_EQ(status.code(), Code::kExists);
    EXPECT_EQ(status.message(), "destination " + real_dest_ + "/b already exists");
  }
  EXPECT_EQ(List(dest_), (std::vector<std::string>{"b"}));
  EXPECT_EQ(ReadFile(dest_ + "/b"), "old");
}

TEST_F(StagingDirTest, CommitRefusesDanglingSymlinkTarget) {
  ASSERT_EQ(symlink("nowhere", (dest_ + "/a").c_str()), 0);
  StagingDir staging = MakeStaging();
  WriteFile(staging.path() + "/a", "new");
  EXPECT_EQ(staging.Commit({"a"}, false).code(), Code::kExists);
  EXPECT_TRUE(S_ISLNK(Mode(dest_ + "/a")));
}

TEST_F(StagingDirTest, CommitRefusesMissingStagedEntryAndMovesNothing) {
  StagingDir staging = MakeStaging();
  WriteFile(staging.path() + "/a", "new");
  Status status = staging.Commit({"a", "missing"}, false);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("missing"), std::string::npos) << status.message();
  EXPECT_FALSE(Exists(dest_ + "/a"));
}

TEST_F(StagingDirTest, CommitRefusesNamesThatAreNotPlain) {
  StagingDir staging = MakeStaging();
  for (const char* name : {"", ".", "..", "a/b", "../x"}) {
    EXPECT_EQ(staging.Commit({name}, false).code(), Code::kInvalidArgument) << name;
  }
  EXPECT_EQ(staging.Commit({"a", "a"}, false).code(), Code::kInvalidArgument);
}

TEST_F(StagingDirTest, CommitWithOverwriteReplacesFile) {
  WriteFile(dest_ + "/file", "old");
  {
    StagingDir staging = MakeStaging();
    WriteFile(staging.path() + "/file", "new");
    Status status = staging.Commit({"file"}, /*overwrite=*/true);
    ASSERT_TRUE(status.ok()) << status.message();
  }
  EXPECT_EQ(List(dest_), (std::vector<std::string>{"file"}));
  EXPECT_EQ(ReadFile(dest_ + "/file"), "new");
}

TEST_F(StagingDirTest, CommitWithOverwriteReplacesNonEmptyDirectory) {
  ASSERT_EQ(mkdir((dest_ + "/dir").c_str(), 0755), 0);
  WriteFile(dest_ + "/dir/old", "old");
  {
    StagingDir staging = MakeStaging();
    ASSERT_EQ(mkdir((staging.path() + "/dir").c_str(), 0755), 0);
    WriteFile(staging.path() + "/dir/new", "new");
    Status status = staging.Commit({"dir"}, /*overwrite=*/true);
    ASSERT_TRUE(status.ok()) << status.message();
  }
  EXPECT_EQ(List(dest_), (std::vector<std::string>{"dir"}));
  EXPECT_EQ(List(dest_ + "/dir"), (std::vector<std::string>{"new"}));
}

TEST_F(StagingDirTest, CommitWithOverwriteReplacesDirectoryWithFile) {
  ASSERT_EQ(mkdir((dest_ + "/entry").c_str(), 0755), 0);
  WriteFile(dest_ + "/entry/old", "old");
  {
    StagingDir staging = MakeStaging();
    WriteFile(staging.path() + "/entry", "new");
    Status status = staging.Commit({"entry"}, /*overwrite=*/true);
    ASSERT_TRUE(status.ok()) << status.message();
  }
  EXPECT_EQ(List(dest_), (std::vector<std::string>{"entry"}));
  EXPECT_EQ(ReadFile(dest_ + "/entry"), "new");
}

TEST_F(StagingDirTest, CommitWithOverwriteMovesAbsentEntriesToo) {
  WriteFile(dest_ + "/old", "old");
  {
    StagingDir staging = MakeStaging();
    WriteFile(staging.path() + "/fresh", "new");
    ASSERT_TRUE(staging.Commit({"fresh"}, /*overwrite=*/true).ok());
  }
  EXPECT_EQ(List(dest_), (std::vector<std::string>{"fresh", "old"}));
}

TEST_F(StagingDirTest, CheckTargetsAbsentNamesTheFirstExistingEntry) {
  EXPECT_TRUE(CheckTargetsAbsent(dest_, {"a", "b"}).ok());
  WriteFile(dest_ + "/b", "x");
  Status status = CheckTargetsAbsent(dest_, {"a", "b"});
  EXPECT_EQ(status.code(), Code::kExists);
  EXPECT_EQ(status.message(), "destination " + dest_ + "/b already exists");
}

TEST_F(StagingDirTest, CheckFreeSpacePassesForOneByte) {
  Status status = CheckFreeSpace(dest_, 1);
  EXPECT_TRUE(status.ok()) << status.message();
}

TEST_F(StagingDirTest, CheckFreeSpaceFailsForOneExbibyte) {
  Status status = CheckFreeSpace(dest_, uint64_t{1} << 60);
  EXPECT_EQ(status.code(), Code::kNoSpace);
  const std::string& message = status.message();
  EXPECT_EQ(message.rfind("not enough space in " + dest_ + ": need 1048576.0 TiB, ", 0), 0u)
      << message;
  EXPECT_NE(message.find(" free"), std::string::npos) << message;
}

TEST_F(StagingDirTest, CreateWritesLockedJournalBesideTheDirectory) {
  StagingDir staging = MakeStaging();
  const std::string journal = staging.path() + ".journal";
  std::vector<std::string> names;
  Status status = ResumeJournal::ReadNames(journal, &names);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(names, kNames);
  EXPECT_TRUE(staging.journal()->is_open());
  EXPECT_EQ(TryOpen(journal).code(), Code::kExists);
}

TEST_F(StagingDirTest, RemoveDeletesTheJournalToo) {
  StagingDir staging = MakeStaging();
  const std::string path = staging.path();
  staging.Remove();
  EXPECT_FALSE(Exists(path));
  EXPECT_FALSE(Exists(path + ".journal"));
  EXPECT_FALSE(staging.journal()->is_open());
}

TEST_F(StagingDirTest, CommitDeletesTheJournal) {
  StagingDir staging = MakeStaging();
  const std::string path = staging.path();
  ASSERT_EQ(mkdir((path + "/db").c_str(), 0755), 0);
  ASSERT_TRUE(staging.Commit(kNames, /*overwrite=*/false).ok());
  EXPECT_FALSE(Exists(path + ".journal"));
  EXPECT_EQ(List(dest_), kNames);
}

TEST_F(StagingDirTest, KeepLeavesTreeAndJournalAndReleasesTheLock) {
  std::string moved_path, assigned_path;
  {
    StagingDir moved_from = MakeStaging();
    StagingDir assigned = MakeStaging();
    moved_path = moved_from.path();
    assigned_path = assigned.path();
    WriteFile(moved_path + "/file", "data");
    moved_from.Keep();
    assigned.Keep();
    StagingDir moved = std::move(moved_from);  // kept still, when it dies
    assigned = StagingDir();                   // assigning over a kept one leaves it too
  }
  EXPECT_EQ(ReadFile(moved_path + "/file"), "data");
  for (const std::string& path : {moved_path, assigned_path}) {
    EXPECT_TRUE(Exists(path)) << path;
    Status status = TryOpen(path + ".journal");
    EXPECT_TRUE(status.ok()) << status.message();
  }
}

TEST_F(StagingDirTest, AdoptTakesTheLeftoverVouchingForMostBytes) {
  std::vector<std::string> smaller;
  for (int i = 0; i < 3; ++i) smaller.push_back(Leave(kNames, {Held("db/a", 100, 100)}));
  const HeldFile a = Held("db/a", 100, 60), b = Held("db/b", 50, 50);
  const std::string larger = Leave(kNames, {a, b});
  const std::string foreign = Leave({"other"}, {Held("other/a", 1000, 1000)});
  StagingDir live = MakeStaging();  // vouches for the most, but its receiver is alive
  WriteFile(live.path() + "/big", std::string(5000, 'x'));
  ASSERT_TRUE(live.journal()->Record({Held("big", 5000, 5000)}).ok());

  HeldFiles held;
  uint64_t allocated = 0;
  StagingDir adopted = Adopt(&held, &allocated);
  EXPECT_EQ(adopted.path(), larger);
  EXPECT_EQ(adopted.dest_dir(), real_dest_);
  EXPECT_EQ(held, (HeldFiles{{a.path, a}, {b.path, b}}));
  EXPECT_EQ(TryOpen(larger + ".journal").code(), Code::kExists);  // adopted: locked by us now
  for (const std::string& gone : smaller) {
    EXPECT_FALSE(Exists(gone)) << gone;
    EXPECT_FALSE(Exists(gone + ".journal")) << gone;
  }
  for (const std::string& left : {foreign, live.path()}) {
    EXPECT_TRUE(Exists(left)) << left;
    EXPECT_TRUE(Exists(left + ".journal")) << left;
  }
}

TEST_F(StagingDirTest, AdoptWithNothingToAdoptLeavesOutEmpty) {
  ASSERT_EQ(mkdir((dest_ + "/.xfer-staging-0123456789abcdef").c_str(), 0700), 0);  // no journal
  Leave({"other"}, {});
  HeldFiles held = {{"stale", Held("stale", 1, 1)}};
  uint64_t allocated = 7;
  StagingDir adopted = Adopt(&held, &allocated);
  EXPECT_TRUE(adopted.path().empty());
  EXPECT_TRUE(held.empty());
  EXPECT_EQ(allocated, 0u);
  EXPECT_EQ(List(dest_).size(), 3u);
}

// Protocol 1's journals vouch with digests of another kind: never adopted, left as they are.
TEST_F(StagingDirTest, AdoptLeavesAJournalOfProtocolOneAlone) {
  const std::string old = Leave(kNames, {Held("db/a", 100, 100)});
  std::string journal = ReadFile(old + ".journal");
  journal.replace(0, 8, "XFERJNL1");
  WriteFile(old + ".journal", journal);
  HeldFiles held;
  uint64_t allocated = 0;
  StagingDir adopted = Adopt(&held, &allocated);
  EXPECT_TRUE(adopted.path().empty()) << adopted.path();
  EXPECT_TRUE(held.empty());
  EXPECT_EQ(ReadFile(old + "/db/a"), std::string(100, 'x'));
  EXPECT_EQ(ReadFile(old + ".journal"), journal);
}

TEST_F(StagingDirTest, AdoptRemovesJournalWhoseDirectoryIsMissing) {
  const std::string journal = real_dest_ + "/.xfer-staging-0123456789abcdef.journal";
  {
    ResumeJournal created;
    ASSERT_TRUE(ResumeJournal::Create(journal, kNames, &created).ok());
  }
  HeldFiles held;
  uint64_t allocated = 0;
  EXPECT_TRUE(Adopt(&held, &allocated).path().empty());
  EXPECT_TRUE(List(dest_).empty());
}

// Only directories and held files whose size fits the journal stay; the journal afterwards
// vouches for exactly those.
TEST_F(StagingDirTest, AdoptPrunesToDirectoriesAndHeldFiles) {
  const HeldFile complete = Held("db/complete", 5, 5);
  const HeldFile partial = Held("db/sub/partial", 100, 10);
  const std::string path =
      Leave(kNames, {complete, partial, Held("db/short", 100, 10), Held("db/grown", 5, 5),
                     Held("db/link", 3, 3), Held("db/missing", 4, 4)});
  WriteFile(path + "/db/sub/partial", std::string(20, 'p'));  // written past the verified prefix
  WriteFile(path + "/db/short", "12345");
  WriteFile(path + "/db/grown", "123456");
  ASSERT_EQ(unlink((path + "/db/link").c_str()), 0);
  ASSERT_EQ(symlink("complete", (path + "/db/link").c_str()), 0);
  ASSERT_EQ(unlink((path + "/db/missing").c_str()), 0);
  WriteFile(path + "/db/unvouched", "x");
  ASSERT_EQ(mkfifo((path + "/db/fifo").c_str(), 0600), 0);
  ASSERT_EQ(symlink("/", (path + "/db/root-link").c_str()), 0);
  ASSERT_EQ(link((path + "/db/complete").c_str(), (path + "/db/second-name").c_str()), 0);
  ASSERT_EQ(mkdir((path + "/db/empty").c_str(), 0755), 0);

  HeldFiles held;
  uint64_t allocated = 0;
  StagingDir adopted = Adopt(&held, &allocated);
  ASSERT_EQ(adopted.path(), path);
  EXPECT_EQ(held, (HeldFiles{{complete.path, complete}, {partial.path, partial}}));
  EXPECT_EQ(List(path), kNames);
  EXPECT_EQ(List(path + "/db"), (std::vector<std::string>{"complete", "empty", "sub"}));
  EXPECT_EQ(List(path + "/db/sub"), (std::vector<std::string>{"partial"}));
  EXPECT_GT(allocated, 0u);
  EXPECT_EQ(allocated, Allocated(path + "/db/complete") + Allocated(path + "/db/sub/partial"));

  adopted.Keep();
  adopted = StagingDir();
  ResumeJournal journal;
  std::vector<std::string> names;
  HeldFiles vouched;
  ASSERT_TRUE(ResumeJournal::Open(path + ".journal", &journal, &names, &vouched).ok());
  EXPECT_EQ(vouched, held);
}

TEST_F(StagingDirTest, AdoptKeepsOneNameOfAnInodeHeldUnderTwo) {
  const std::string path = Leave(kNames, {Held("db/a", 4, 4), Held("db/b", 4, 4)});
  ASSERT_EQ(unlink((path + "/db/b").c_str()), 0);
  ASSERT_EQ(link((path + "/db/a").c_str(), (path + "/db/b").c_str()), 0);
  HeldFiles held;
  uint64_t allocated = 0;
  StagingDir adopted = Adopt(&held, &allocated);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(List(path + "/db"), (std::vector<std::string>{held.begin()->first.substr(3)}));
}

TEST_F(StagingDirTest, AdoptPruningDoesNotFollowSymlinks) {
  const std::string outside = tmp_.Sub("outside");
  ASSERT_EQ(mkdir(outside.c_str(), 0755), 0);
  WriteFile(outside + "/keep", "precious");  // the held size: it would pass if followed
  const std::string path = Leave(kNames, {Held("db/out/keep", 8, 8)});
  ASSERT_TRUE(RemoveTree(path + "/db/out").ok());
  ASSERT_EQ(symlink(outside.c_str(), (path + "/db/out").c_str()), 0);
  HeldFiles held;
  uint64_t allocated = 0;
  StagingDir adopted = Adopt(&held, &allocated);
  EXPECT_TRUE(held.empty());
  EXPECT_TRUE(List(path + "/db").empty());
  EXPECT_EQ(ReadFile(outside + "/keep"), "precious");
}

TEST_F(StagingDirTest, RemoveStaleRemovesUnlockedLeftoversOfTheseNamesOnly) {
  const std::string first = Leave(kNames, {Held("db/a", 3, 3), Held("db/b", 5, 2)});
  const std::string second = Leave(kNames, {});
  const std::string foreign = Leave({"other"}, {});
  StagingDir live = MakeStaging();
  const std::string older = real_dest_ + "/.xfer-staging-0123456789abcdef";  // no journal
  ASSERT_EQ(mkdir(older.c_str(), 0700), 0);
  StagingDir::Discarded discarded;
  Status status = StagingDir::RemoveStale(dest_, kNames, &discarded);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(discarded.dirs, 2u);
  // What the journals vouched for: db/a whole (3 bytes) and db/b's prefix (2 of 5).
  EXPECT_EQ(discarded.files, 2u);
  EXPECT_EQ(discarded.bytes, 5u);
  for (const std::string& gone : {first, second}) {
    EXPECT_FALSE(Exists(gone)) << gone;
    EXPECT_FALSE(Exists(gone + ".journal")) << gone;
  }
  for (const std::string& left : {foreign, live.path()}) {
    EXPECT_TRUE(Exists(left)) << left;
    EXPECT_TRUE(Exists(left + ".journal")) << left;
  }
  EXPECT_TRUE(Exists(older));
}

TEST_F(StagingDirTest, PruneExceptKeepsWantedPathsOnly) {
  StagingDir staging = MakeStaging();
  const std::string& path = staging.path();
  for (const char* dir : {"/db", "/db/sub", "/db/unwanted", "/db/unwanted/below", "/other"}) {
    ASSERT_EQ(mkdir((path + dir).c_str(), 0755), 0) << dir;
  }
  for (const char* file : {"/db/keep", "/db/drop", "/db/sub/drop", "/db/unwanted/below/f"}) {
    WriteFile(path + file, "x");
  }
  ASSERT_EQ(symlink("keep", (path + "/db/link").c_str()), 0);
  PathDigestSet wanted;
  for (const char* kept : {"db", "db/keep", "db/sub", "db/link"}) wanted.insert(PathDigest(kept));
  Status status = staging.PruneExcept(wanted);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(List(path), kNames);
  EXPECT_EQ(List(path + "/db"), (std::vector<std::string>{"keep", "link", "sub"}));
  EXPECT_TRUE(List(path + "/db/sub").empty());
}

TEST_F(StagingDirTest, PruneExceptWalksTreesDeeperThanPathMax) {
  StagingDir staging = MakeStaging();
  const std::string name(100, 'd');
  MakeDeepTree(staging.path(), 50, name);  // > 5,000 characters
  PathDigestSet wanted;
  std::string rel = name;
  for (int depth = 1; depth <= 10; ++depth, rel += "/" + name) wanted.insert(PathDigest(rel));
  Status status = staging.PruneExcept(wanted);
  ASSERT_TRUE(status.ok()) << status.message();
  std::string tenth = staging.path();
  for (int depth = 1; depth <= 10; ++depth) tenth += "/" + name;
  EXPECT_TRUE(Exists(tenth));
  EXPECT_TRUE(List(tenth).empty());
}

TEST(FormatBytesTest, PicksUnitAndOneDecimal) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1024), "1.0 KiB");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes((uint64_t{1} << 20) - 1), "1.0 MiB");  // not "1024.0 KiB"
  EXPECT_EQ(FormatBytes(uint64_t{123} * (uint64_t{1} << 30) / 10), "12.3 GiB");
  EXPECT_EQ(FormatBytes(uint64_t{41} * (uint64_t{1} << 30) / 10), "4.1 GiB");
  EXPECT_EQ(FormatBytes(uint64_t{5} << 40), "5.0 TiB");
  EXPECT_EQ(FormatBytes(uint64_t{1} << 60), "1048576.0 TiB");
}

class RemoveTreeTest : public ::testing::Test {
 protected:
  TempDir tmp_;
};

TEST_F(RemoveTreeTest, MissingPathIsNotAnError) {
  EXPECT_TRUE(RemoveTree(tmp_.Sub("missing")).ok());
  EXPECT_TRUE(RemoveTree(tmp_.Sub("missing/below")).ok());
}

TEST_F(RemoveTreeTest, RemovesFileAndSymlinkButNotItsTarget) {
  WriteFile(tmp_.Sub("file"), "x");
  ASSERT_EQ(symlink(tmp_.Sub("file").c_str(), tmp_.Sub("link").c_str()), 0);
  EXPECT_TRUE(RemoveTree(tmp_.Sub("link")).ok());
  EXPECT_EQ(List(tmp_.path()), (std::vector<std::string>{"file"}));
  EXPECT_TRUE(RemoveTree(tmp_.Sub("file")).ok());
  EXPECT_TRUE(List(tmp_.path()).empty());
}

TEST_F(RemoveTreeTest, AcceptsTrailingSlashes) {
  ASSERT_EQ(mkdir(tmp_.Sub("dir").c_str(), 0755), 0);
  EXPECT_TRUE(RemoveTree(tmp_.Sub("dir//")).ok());
  EXPECT_FALSE(Exists(tmp_.Sub("dir")));
}

TEST_F(RemoveTreeTest, RefusesDotPaths) {
  EXPECT_EQ(RemoveTree("").code(), Code::kInvalidArgument);
  EXPECT_EQ(RemoveTree(tmp_.path() + "/.").code(), Code::kInvalidArgument);
  EXPECT_TRUE(Exists(tmp_.path()));
}

// The walk must not hold a descriptor per level: with the limit a few above what is open now,
// a tree hundreds of levels deep still goes.
TEST_F(RemoveTreeTest, HoldsFewDescriptorsAtAnyDepth) {
  ASSERT_EQ(mkdir(tmp_.Sub("deep").c_str(), 0755), 0);
  MakeDeepTree(tmp_.Sub("deep"), 300, "d");
  int highest = 0;
  for (const std::string& name : List("/proc/self/fd"))
    highest = std::max(highest, std::stoi(name));
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  struct rlimit low = saved;
  low.rlim_cur = highest + 6;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  Status status = RemoveTree(tmp_.Sub("deep"));
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_TRUE(status.ok()) << status.message();
  EXPECT_FALSE(Exists(tmp_.Sub("deep")));
}

// Root opens a 0000 directory anyway; an unprivileged owner has to chmod it first.
TEST_F(RemoveTreeTest, RemovesLockedDirectoriesWithoutPrivileges) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch to an unprivileged user";
  constexpr uid_t kNobody = 65534;
  ASSERT_EQ(chown(tmp_.path().c_str(), kNobody, kNobody), 0);
  const std::string tree = tmp_.Sub("tree");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // child: no gtest assertions, only an exit code
    if (setgid(kNobody) != 0 || setuid(kNobody) != 0) _exit(2);
    if (mkdir(tree.c_str(), 0755) != 0 || mkdir((tree + "/a").c_str(), 0755) != 0 ||
        mkdir((tree + "/a/b").c_str(), 0755) != 0) {
      _exit(3);
    }
    int fd = open((tree + "/a/b/file").c_str(), O_WRONLY | O_CREAT, 0644);
    if (fd < 0) _exit(4);
    close(fd);
    if (chmod((tree + "/a/b").c_str(), 0) != 0 || chmod((tree + "/a").c_str(), 0500) != 0) _exit(5);
    Status status = RemoveTree(tree);
    _exit(status.ok() && !Exists(tree) ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "1: removal failed; 2-5: setting up as nobody failed";
}

// A mount inside the tree holds someone else's data: removal stops there instead of emptying it.
TEST_F(RemoveTreeTest, RefusesToDescendIntoMountPoint) {
  const std::string outside = tmp_.Sub("outside");
  const std::string mount_point = tmp_.Sub("tree/mnt");
  ASSERT_EQ(mkdir(outside.c_str(), 0755), 0);
  WriteFile(outside + "/keep", "precious");
  ASSERT_EQ(mkdir(tmp_.Sub("tree").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(mount_point.c_str(), 0755), 0);
  if (mount(outside.c_str(), mount_point.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    GTEST_SKIP() << "cannot bind-mount here";
  }
  Status status = RemoveTree(tmp_.Sub("tree"));
  ASSERT_EQ(umount(mount_point.c_str()), 0);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("mounted"), std::string::npos) << status.message();
  EXPECT_EQ(ReadFile(outside + "/keep"), "precious");
}

}  // namespace
}  // namespace xfer
