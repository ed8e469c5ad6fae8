#pragma once

// What the writers of split directories (bdl split's IDX parts, bdl convert's
// record shards) share: DIR/train and DIR/test, replaced whole.
#include <filesystem>
#include <functional>
#include <string>

#include "bdl/data/dataset.h"

namespace bdl::data::detail {

const char* split_dir(Split split);

// Writes DIR/<split> through `write`, which fills a fresh hidden sibling
// directory; that is then renamed into place. An older split there (holding
// only part-* files and a MANIFEST) is replaced whole, and a failure leaves it
// as it was.
void replace_split_directory(const std::string& directory, Split split,
                             const std::function<void(const std::filesystem::path&)>& write);

}  // namespace bdl::data::detail
