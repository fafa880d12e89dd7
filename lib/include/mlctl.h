/*
 * mlctl.h — the public API of libmlctl, the library behind the mlctl command.
 *
 * This is the only header the command-line front end (cli/) includes; everything it does
 * goes through the functions declared here and in the module headers below.
 *
 * Conventions (see STYLE.md): functions are mlctl_<module>_<verb>(); the output parameter
 * comes first and is named out; the return value is 0 or a negative MLCTL_E* code, with the
 * detail in the thread-local last error (mlctl_error_last()). What comes back through out
 * belongs to the caller and is released with the matching NULL-safe mlctl_<type>_free().
 *
 * The module headers are named for what a caller does; the lib/ file that implements each
 * is named in its opening comment (lib/README.md has the map of all of lib/):
 *
 *   mlctl/common.h    error.c                 mlctl/package.h   package.c (pkgread.c)
 *   mlctl/registry.h  registry.c, registry_models.c
 *   mlctl/store.h     store.c                 mlctl/train.h     train.c, import.c
 *   mlctl/predict.h   score.c                 mlctl/validate.h  validate.c
 *   mlctl/deploy.h    deploy.c                mlctl/serve.h     serve.c (http.c, infer.c,
 *                                                               predlog.c)
 *   (mlctl_init() in mlctl/common.h is init.c's)
 *
 * Embedding in a many-threaded program (mlctl serve does; mlctl/common.h says it in full at
 * mlctl_init()):
 *
 *   - Shared between threads: nothing but what a caller shares read-only. A registry handle
 *     (mlctl_registry, opened with SQLITE_OPEN_NOMUTEX) belongs to one thread at a time:
 *     open one per thread; they share the registry on disk safely, as processes do. Results
 *     and lists belong to the caller that got them. Inside the library a loaded model is
 *     read-only while it scores, so any number of threads score through one at once
 *     (tests/unit/check_embed.c); its public handle is mlctl_loaded (mlctl/serve.h),
 *     reference-counted, which mlctl_serve() swaps on a reload while requests still hold
 *     the old one.
 *   - Every function may be called from any thread; two mlctl_predict() calls run at once
 *     with a registry handle each. The last error is per thread.
 *   - The library never prints, never exits, installs no signal handler and never calls
 *     setlocale(); long operations take a cancellation flag (mlctl_predict_options.cancel).
 *     Its few process-wide settings (libsvm's print function, OpenBLAS's thread count,
 *     libsodium, rand() when training with probabilities) are made once: mlctl_init().
 */
#ifndef MLCTL_H
#define MLCTL_H

#include "mlctl/common.h"
#include "mlctl/registry.h"
#include "mlctl/store.h"
#include "mlctl/data.h"
#include "mlctl/train.h"
#include "mlctl/predict.h"
#include "mlctl/validate.h"
#include "mlctl/package.h"
#include "mlctl/deploy.h"
#include "mlctl/serve.h"
#include "mlctl/monitor.h"
#include "mlctl/pipeline.h"

#endif
