#include <algorithm>
#include <ostream>

#include "bdl/cli/commands.h"
#include "bdl/data/record_shards.h"
#include "bdl/job/data_source.h"

namespace bdl::cli {
namespace {

// Shards of about `shard_size` bytes: each record holds its features (a byte
// per u8 element, 4 per f32) and about 40 bytes of shape, label and framing.
int64_t shards_for(const data::Dataset& d, int64_t shard_size) {
  const int64_t element = d.features().dtype() == DType::u8 ? 1 : 4;
  const int64_t record = shape_numel(d.sample_shape()) * element + 40;
  const int64_t shards = (d.size() * record + shard_size - 1) / shard_size;
  return std::clamp<int64_t>(shards, 1, d.size());
}

void convert_split(const data::Dataset& d, const ConvertArgs& a, data::Split split,
                   std::ostream& out) {
  const int64_t shards = a.shards > 0 ? a.shards : shards_for(d, a.shard_size);
  BDL_CHECK(d.size() >= shards, "--shards: ", shards, " shards of ", d.size(), " samples");
  data::write_record_shards(d, a.output, split, shards);
  const auto info = data::describe_record_shards(a.output, split);
  out << "wrote " << info.samples << " " << (split == data::Split::train ? "train" : "test")
      << " samples in " << info.shards << " shards (" << info.bytes / 1000000.0 << " MB) to "
      << a.output << "/" << (split == data::Split::train ? "train" : "test") << ": "
      << shape_str(info.sample_shape) << " " << info.features << ", " << info.classes << " "
      << (info.targets == "classes" ? "classes" : "target values")
      << (info.weighted ? ", weighted" : "") << "\n";
}

}  // namespace

int run_convert(const ConvertArgs& a, std::ostream& out) {
  validate(a);
  BDL_CHECK(!data::is_record_shard_dir(a.data), a.data,
            ": holds record shards already (bdl convert reads IDX, NumPy and Fashion-MNIST)");
  job::DataSpec spec;
  spec.source = a.data;
  const job::Data d = job::load_data(spec, job::DataNeeds{}, 0, 1);
  convert_split(data::collect(d.train), a, data::Split::train, out);
  if (d.validation) convert_split(data::collect(*d.validation), a, data::Split::test, out);
  out << "records are tf.train.Example: \"features\" (bytes or floats), \"shape\", \"label\""
         ", \"weight\" when weighted; image bytes are stored as they are\n";
  return 0;
}

}  // namespace bdl::cli
