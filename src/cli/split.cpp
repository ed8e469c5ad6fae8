#include <ostream>

#include "bdl/cli/commands.h"
#include "bdl/data/dataset.h"

namespace bdl::cli {

int run_split(const SplitArgs& a, std::ostream& out) {
  validate(a);
  for (const auto split : {data::Split::train, data::Split::test}) {
    const data::Dataset d = data::mnist_like(a.data, split);
    BDL_CHECK(d.size() >= a.parts, "--parts: ", a.parts, " parts of ", d.size(), " samples");
    data::write_partitioned(d, a.output, split, a.parts);
    out << "wrote " << d.size() << " " << (split == data::Split::train ? "train" : "test")
        << " samples in " << a.parts << " parts to " << a.output << "\n";
  }
  out << "each worker of N (N dividing the part count) loads the parts whose number is its "
         "rank modulo N: copy those and the MANIFEST of train/ and test/ to each machine\n";
  return 0;
}

}  // namespace bdl::cli
