// zombie: leave a zombie for a moment. The child exits at once; the parent
// sleeps before exiting, and until then nobody waits for the child.
#include "types.h"
#include "user.h"

int main(void) {
  if (fork() > 0)
    sleep(5);
  exit();
}
