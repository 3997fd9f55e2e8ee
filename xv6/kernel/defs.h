// Every function that one kernel file offers to another, grouped by the
// file that defines it.
#ifndef XV6_DEFS_H
#define XV6_DEFS_H
#include "traceevents.h"
struct buf;
struct context;
struct file;
struct inode;
struct pipe;
struct proc;
struct rtcdate;
struct spinlock;
struct sleeplock;
struct stat;
struct superblock;
struct trapframe;
struct sysinfo;

// bio.c
void            binit(void);
struct buf*     bread(uint, uint);
void            brelse(struct buf*);
void            bwrite(struct buf*);

// console.c
void            consoleinit(void);
void            cprintf(char*, ...);
void            consoleintr(int(*)(void));
void            panic(char*) __attribute__((noreturn));

// exec.c
int             exec(char*, char**);

// file.c
struct file*    filealloc(void);
void            fileclose(struct file*);
struct file*    filedup(struct file*);
void            fileinit(void);
int             fileread(struct file*, uint uva, int n);
int             filestat(struct file*, struct stat*);
int             filewrite(struct file*, uint uva, int n);

// fs.c
void            readsb(int dev, struct superblock *sb);
uint            bfreecount(int dev);
int             dirlink(struct inode*, char*, uint);
struct inode*   dirlookup(struct inode*, char*, uint*);
struct inode*   ialloc(uint, short);
struct inode*   idup(struct inode*);
void            iinit(int dev);
void            ilock(struct inode*);
void            iput(struct inode*);
void            iunlock(struct inode*);
void            iunlockput(struct inode*);
void            iupdate(struct inode*);
int             namecmp(const char*, const char*);
struct inode*   namei(char*);
struct inode*   nameiparent(char*, char*);
int             readi(struct inode*, int user, char *dst, uint off, uint n);
void            stati(struct inode*, struct stat*);
int             writei(struct inode*, int user, char *src, uint off, uint n);

// ide.c
void            ideinit(void);
void            ideintr(void);
void            iderw(struct buf*);

// ioapic.c
void            ioapicenable(int irq, int cpu);
extern uchar    ioapicid;
void            ioapicinit(void);

// kalloc.c
char*           kalloc(void);
char*           kalloc_as(int owner);  // owner: an OWNER_ value (traceevents.h), for the trace
char*           kalloc_untraced(void);
void            kfree(char*);
void            kfree_unmapped(char*, uint va, int pid);
void            kinit1(void*, void*);
void            kinit2(void*, void*);
uint            kfreepages(void);
void            kref(char*);
int             krefcount(char*);
uint            ktotalpages(void);
extern uint     phystop;

// kmalloc.c
struct kmstat;
void            kmalloc_totals(uint *objects, uint *bytes, uint *pages);
void            kmalloc_stat(struct kmstat*);
void*           kmalloc(uint n);
void            kmfree(void*);
void*           kmalloc_pid(uint n, int pid);
int             kmfree_pid(void*, int pid);

// kmhandle.c
void            kmalloc_proc_exit(struct proc*);

// kbd.c
void            kbdintr(void);

// lapic.c
int             lapicid(void);
extern volatile uint*    lapic;
void            lapiceoi(void);
void            lapicinit(void);
void            lapicstartap(uchar, uint);
void            microdelay(int);

// log.c
void            initlog(int dev);
void            log_write(struct buf*);
void            begin_op(void);
void            end_op(void);

// main.c
int             ncpu_started(void);

// mmap.c
uint            heap_limit(struct proc*);
int             regions_fork(struct proc*, struct proc*, uint *cowed);
void            regions_exit(struct proc*);
void            regions_dump(struct proc*);
int             fault_handler(uint va, uint err, uint eip);
#define FAULT_BAD   OUTCOME_BAD    // fault_handler: access not allowed
#define FAULT_NOMEM OUTCOME_NOMEM  // fault_handler: out of memory
#define FAULT_BUS   OUTCOME_BUS    // fault_handler: file page past the end of the file
void            regions_init(struct proc*);
struct region*  region_find(struct proc*, uint va);
uint            region_span(struct proc*, uint va, int write);
int             regions_prefault_files(uint va, uint len, int write);

// pagecache.c
struct pagecache;
void            pcacheinit(void);
int             pcache_get(struct file*, struct pagecache**);
void            pcache_hold(struct pagecache*);
void            pcache_put(struct pagecache*);
char*           pcache_peek(struct inode*, uint off);
int             pcache_page(struct pagecache*, uint idx, uint *pa);
void            pcache_dirty(struct pagecache*, uint idx);
void            pcache_writeback(struct pagecache*, uint lo, uint hi);
uint            pcache_inum(struct pagecache*, char *name);

// shm.c
struct shmobj;
void            shminit(void);
struct shmobj*  shm_alloc(uint npages);
void            shm_attach(struct shmobj*, uint lo, uint hi);
void            shm_share(struct shmobj*);
void            shm_unshare(struct shmobj*);
void            shm_cover(struct shmobj*, uint lo, uint hi);
int             shm_grow(struct shmobj*, uint npages);
void            shm_uncover(struct shmobj*, uint lo, uint hi);
void            shm_detach(struct shmobj*, uint lo, uint hi);
uint            shm_page(struct shmobj*, uint idx);

// mp.c
extern int      ismp;
void            mpinit(void);

// picirq.c
void            picenable(int);
void            picinit(void);

// pipe.c
int             pipealloc(struct file**, struct file**);
void            pipeclose(struct pipe*, int);
int             piperead(struct pipe*, uint uva, int n);
int             pipewrite(struct pipe*, uint uva, int n);

// proc.c
struct cpu*     cpu_by_apicid(void);
int             cpuid(void);
void            exit(void) __attribute__((noreturn));
int             fork(void);
int             growproc(int);
int             kill(int);
struct cpu*     mycpu(void);
struct proc*    myproc(void);
void            pinit(void);
void            procdump(void);
void            scheduler(void) __attribute__((noreturn));
void            sched(void);
void            sleep(void*, struct spinlock*);
void            userinit(void);
int             wait(void);
void            wakeup(void*);
void            wakeup1(void*);
void            yield(void);
int             nprocs_inuse(void);
void            trace_image(struct proc*);
int             with_proc(int pid, int (*fn)(struct proc*, void*), void *arg);

// swtch.S
void            swtch(struct context**, struct context*);

// spinlock.c
void            acquire(struct spinlock*);
void            getcallerpcs(void*, uint*);
int             holding(struct spinlock*);
void            initlock(struct spinlock*, char*);
void            release(struct spinlock*);
void            pushcli(void);
void            popcli(void);

// sleeplock.c
void            acquiresleep(struct sleeplock*);
void            releasesleep(struct sleeplock*);
int             holdingsleep(struct sleeplock*);
void            initsleeplock(struct sleeplock*, char*);

// string.c
int             memcmp(const void*, const void*, uint);
void*           memmove(void*, const void*, uint);
void*           memset(void*, int, uint);
char*           safestrcpy(char*, const char*, int);
int             strlen(const char*);
int             strncmp(const char*, const char*, uint);
char*           strncpy(char*, const char*, int);

// syscall.c
int             syserr(int err, uint value);
int             argint(int, int*);
int             arguser(int n, uint *uva, int size, int write);
int             argstr(int n, char *buf, int max);
int             fetchint(uint, int*);
void            syscall(void);

// sysfile.c
int             argfd(int n, int *pfd, struct file **pf);

// usercopy.c
int             user_range_ok(uint va, uint len, int write);
int             user_populate(uint va, uint len, int write);
int             copy_to_user(uint dst, const void *src, uint n);
int             copy_from_user(void *dst, uint src, uint n);
int             copy_str_from_user(char *dst, uint src, uint max);
int             either_copyout(int user, char *dst, const char *src, uint n);
int             either_copyin(int user, char *dst, const char *src, uint n);

// trap.c
void            idtinit(void);
extern uint     ticks;
void            tvinit(void);
extern struct spinlock tickslock;

// trace.c (trace.h has the event API)

// uart.c
void            uartinit(void);
void            uartintr(void);
void            uartputc(int);
void            com2init(void);
void            com2write(const uchar*, int);

// vm.c
void            seginit(void);
void            kvmalloc(void);
pde_t*          setupkvm(void);
char*           uva2ka(pde_t*, char*);
int             allocuvm(pde_t*, uint, uint);
int             deallocuvm(pde_t*, uint, uint);
void            freevm(pde_t*);
void            inituvm(pde_t*, char*, uint);
int             loaduvm(pde_t*, char*, struct inode*, uint, uint);
pde_t*          copyuvm(pde_t*, uint sz, uint *shared);
uint            cow_share(pte_t*);
int             cow_fault(struct proc*, uint va, pte_t*, int owner, uint eip);
void            switchuvm(struct proc*);
void            switchkvm(void);
int             copyout(pde_t*, uint, void*, uint);
void            clearpteu(pde_t *pgdir, char *uva);
pte_t*          walkpgdir(pde_t *pgdir, const void *va, int alloc);
pte_t*          next_present_pte(pde_t*, uint*, uint);
pte_t*          next_pte(pde_t *pgdir, uint *va, uint end);
int             mappages(pde_t *pgdir, void *va, uint size, uint pa, int perm);
void            free_empty_pgtables(pde_t *pgdir, uint start, uint end);

// number of elements in fixed-size array
#define NELEM(x) (sizeof(x)/sizeof((x)[0]))
#endif
