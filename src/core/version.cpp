#include "bdl/core/version.h"

namespace bdl {

const char* version() { return BDL_VERSION; }

}  // namespace bdl
