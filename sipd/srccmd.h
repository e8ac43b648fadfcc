/* SPDX-License-Identifier: GPL-2.0-only */
/* Subcommands owning a packet source; argv[0] is the subcommand name. */
#ifndef SIPD_SRCCMD_H
#define SIPD_SRCCMD_H

int sipd_cmd_run(int argc, char **argv);
int sipd_cmd_rules(int argc, char **argv);
int sipd_cmd_replay(int argc, char **argv);

#endif /* SIPD_SRCCMD_H */
