#include "CKernels.h"

/* Per-thread: nonzero while the thread is one worker of a data-parallel training step,
   whose own loops must not split over the cores again. */
static _Thread_local int serial_depth;

void picasso_serial_begin(void) { serial_depth++; }
void picasso_serial_end(void) { serial_depth--; }
int picasso_serial(void) { return serial_depth; }
