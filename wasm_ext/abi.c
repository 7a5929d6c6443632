/* The argument and error blocks shared with Python (see tjs.h). */
#include "tjs.h"

TJS_EXPORT int64_t tjs_args[TJS_ARGS_LEN];
TJS_EXPORT int64_t tjs_err[4];

#ifdef TJS_DEBUG
TJS_EXPORT int64_t tjs_debug_fault[4];
#endif
