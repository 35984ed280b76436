/* /proc/net files, as procfs generators (kernel/net/procnet.c): the procfs
 * tables list them, e.g. PROCFS_FILE_RO("dev", net_proc_dev_show) in a
 * "net" directory. Formats are Linux's. */
#pragma once

#include "fs/procfs.h"

int net_proc_dev_show(const struct procfs_node *n, struct procfs_buf *b);
int net_proc_route_show(const struct procfs_node *n, struct procfs_buf *b);
int net_proc_tcp_show(const struct procfs_node *n, struct procfs_buf *b);
int net_proc_udp_show(const struct procfs_node *n, struct procfs_buf *b);
