#include <ostream>

#include "bdl/cli/commands.h"
#include "bdl/data/dataset.h"

namespace bdl::cli {

int run_split(const SplitArgs& a, std::ostream& out) {
  BDL_CHECK(a.parts > 0, "--parts: must be a positive integer, got ", a.parts);
  BDL_CHECK(!a.output.empty(), "-o/--output: a directory to write is required");
  for (const auto split : {data::Split::train, data::Split::test}) {
    const data::Dataset d = data::mnist_like(a.data, split);
    BDL_CHECK(d.size() >= a.parts, "--parts: ", a.parts, " parts of ", d.size(), " samples");
    data::write_partitioned(d, a.output, split, a.parts);
    out << "wrote " << d.size() << " " << (split == data::Split::train ? "train" : "test")
        << " samples in " << a.parts << " parts to " << a.output << "\n";
  }
  out << "each worker of N loads the parts whose number is its rank modulo N: copy those to "
         "each machine\n";
  return 0;
}

}  // namespace bdl::cli
