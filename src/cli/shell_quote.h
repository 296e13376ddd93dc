// Shell words both ways. ssh joins its arguments into one command line for the remote shell, so
// every word `xfer` sends must be quoted to arrive as exactly one argument; and the user's --ssh
// option is one string that must be split into words the way sh would.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "xfer/status.h"

namespace xfer::cli {

// One POSIX sh word that sh reads back as exactly arg: left bare when it holds only characters
// that are never special ([A-Za-z0-9_@%+,./:-]), otherwise in single quotes with ' as '\''.
std::string ShellQuote(std::string_view arg);

// The quoted words joined with spaces: a command line sh runs as argv.
std::string ShellCommand(const std::vector<std::string>& argv);

// Splits a user-given command ("ssh -p 2222 -i '/path with space/key'") into words as sh would,
// without any expansion: blanks separate words; single quotes keep everything; double quotes keep
// everything but \$ \` \" \\ and backslash-newline; an unquoted backslash keeps the next
// character. Fails on an unclosed quote or a trailing backslash.
Status SplitCommandWords(std::string_view text, std::vector<std::string>* words);

// The argv of a user's --exec CMD: its words (SplitCommandWords), or with shell
// {"/bin/sh", "-c", CMD}. Fails on an empty command.
Status CommandArgv(std::string_view text, bool shell, std::vector<std::string>* argv);

}  // namespace xfer::cli
