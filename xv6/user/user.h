// The user-space interface: system calls (usys.S) and the user library
// (ulib.c, printf.c, umalloc.c). The first block is xv6-public's ABI,
// unchanged, so programs written for it build against this header.
#ifndef XV6_USER_H
#define XV6_USER_H
struct stat;
struct rtcdate;
struct sysinfo;
struct kmstat;
struct mapinfo;

// System calls.
int fork(void);
int exit(void) __attribute__((noreturn));
int wait(void);
int pipe(int*);
int write(int, const void*, int);
int read(int, void*, int);
int close(int);
int kill(int);
int exec(char*, char**);
int open(const char*, int);
int mknod(const char*, short, short);
int unlink(const char*);
int fstat(int fd, struct stat*);
int link(const char*, const char*);
int mkdir(const char*);
int chdir(const char*);
int dup(int);
int getpid(void);
char* sbrk(int);
int sleep(int);
int uptime(void);

// System calls added by this kernel (numbers from 22, see syscall.h).
void* kmalloc(int n);                       // opaque handle, 0 on failure
int kmfree(void* handle);
void* mmap(void* addr, int length, int prot, int flags, int fd, int offset);
int munmap(void* addr, unsigned int length);
int mprotect(void* addr, int length, int prot);
int getmaps(int pid, struct mapinfo* buf, int n);
int sysinfo(struct sysinfo*);
int kmstat(struct kmstat*);
int tracectl(int op, int arg);
int msync(void* addr, unsigned int length, int flags);
int madvise(void* addr, unsigned int length, int advice);
void* mremap(void* old, unsigned int oldlen, unsigned int newlen, int flags, void* newaddr);

// User library.
int stat(const char*, struct stat*);
char* strcpy(char*, const char*);
void* memmove(void*, const void*, int);
char* strchr(const char*, char c);
int strcmp(const char*, const char*);
void printf(int, const char*, ...);
char* gets(char*, int max);
unsigned int strlen(const char*);
void* memset(void*, int, unsigned int);
void* malloc(unsigned int);
void free(void*);
int atoi(const char*);
#endif
