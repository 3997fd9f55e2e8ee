// System call numbers: the user ABI. 1..21 are xv6-public's; ours start at 22.
#ifndef XV6_SYSCALL_H
#define XV6_SYSCALL_H
#define SYS_fork     1
#define SYS_exit     2
#define SYS_wait     3
#define SYS_pipe     4
#define SYS_read     5
#define SYS_kill     6
#define SYS_exec     7
#define SYS_fstat    8
#define SYS_chdir    9
#define SYS_dup     10
#define SYS_getpid  11
#define SYS_sbrk    12
#define SYS_sleep   13
#define SYS_uptime  14
#define SYS_open    15
#define SYS_write   16
#define SYS_mknod   17
#define SYS_unlink  18
#define SYS_link    19
#define SYS_mkdir   20
#define SYS_close   21
#define SYS_kmalloc  22
#define SYS_kmfree   23
#define SYS_mmap     24
#define SYS_munmap   25
#define SYS_mprotect 26
#define SYS_getmaps  27
#define SYS_sysinfo  28
#define SYS_kmstat   29
#define SYS_tracectl 30
#define SYS_msync    31
#define SYS_madvise  32
#define SYS_mremap   33
#endif
