#ifndef SIGHTLINE_CLIBPQ_SHIM_H
#define SIGHTLINE_CLIBPQ_SHIM_H

#include <libpq-fe.h>
#include <poll.h>

#endif
