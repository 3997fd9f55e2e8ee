// init: the first user program (process 1).
//
// Makes the console fds 0, 1 and 2, then keeps a shell running forever.
// Orphaned processes are re-parented to init, so its wait() loop is also
// what reaps them; when the shell itself exits, a new one is started.
#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "user.h"

#define CONSOLE_MAJOR 1

static char *shell_argv[] = {"sh", 0};

static void open_console(void) {
  if (open("console", O_RDWR) < 0) {
    mknod("console", CONSOLE_MAJOR, 1);
    open("console", O_RDWR);  // fd 0
  }
  dup(0);  // fd 1
  dup(0);  // fd 2
}

// Returns the shell's pid, or -1 if fork failed.
static int start_shell(void) {
  int pid = fork();
  if (pid == 0) {
    exec("sh", shell_argv);
    printf(2, "init: exec sh failed\n");
    exit();
  }
  return pid;
}

int main(void) {
  int shell, pid;

  open_console();
  for (;;) {
    printf(1, "init: starting sh\n");
    shell = start_shell();
    if (shell < 0) {
      printf(2, "init: fork failed, retrying\n");
      sleep(100);
      continue;
    }
    // Everything but the shell that wait() returns is an orphan.
    while ((pid = wait()) >= 0 && pid != shell)
      ;
  }
}
