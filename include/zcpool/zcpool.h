/* zcpool — umbrella header: include this to get the whole public API. */
#ifndef ZCPOOL_ZCPOOL_H
#define ZCPOOL_ZCPOOL_H

#define ZCPOOL_VERSION_MAJOR 0
#define ZCPOOL_VERSION_MINOR 1
#define ZCPOOL_VERSION_PATCH 0
#define ZCPOOL_VERSION "0.1.0"

#include "zcpool/status.h"
#include "zcpool/allocator.h"
#include "zcpool/arrow.h"
#include "zcpool/cluster.h"
#include "zcpool/copy.h"
#include "zcpool/descriptor.h"
#include "zcpool/fabric.h"
#include "zcpool/hugetable.h"
#include "zcpool/ipc.h"
#include "zcpool/pool.h"
#include "zcpool/sql.h"

#endif /* ZCPOOL_ZCPOOL_H */
