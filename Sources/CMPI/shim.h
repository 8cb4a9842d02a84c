// Open MPI's C interface (Debian: libopenmpi-dev, found through pkg-config "ompi-c").
// MPI_COMM_WORLD, the datatypes and the operations are macros over global objects, which
// Swift cannot import: these inline functions hand them over.
#include <mpi.h>

static inline MPI_Comm picasso_mpi_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype picasso_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype picasso_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Op picasso_mpi_sum(void) { return MPI_SUM; }
static inline int picasso_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline void *picasso_mpi_in_place(void) { return MPI_IN_PLACE; }
