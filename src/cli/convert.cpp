#include <algorithm>
#include <ostream>

#include "bdl/cli/commands.h"
#include "bdl/data/image_folder.h"
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

// What was written, read back from the MANIFEST.
void describe_written(const ConvertArgs& a, data::Split split, std::ostream& out) {
  const auto info = data::describe_record_shards(a.output, split);
  out << "wrote " << info.samples << " " << (split == data::Split::train ? "train" : "test")
      << " samples in " << info.shards << " shards (" << info.bytes / 1000000.0 << " MB) to "
      << a.output << "/" << (split == data::Split::train ? "train" : "test") << ": "
      << shape_str(info.sample_shape) << " " << info.features << ", " << info.classes << " "
      << (info.targets == "classes" ? "classes" : "target values")
      << (info.weighted ? ", weighted" : "") << "\n";
}

void convert_split(const data::Dataset& d, const ConvertArgs& a, data::Split split,
                   std::ostream& out) {
  const int64_t shards = a.shards > 0 ? a.shards : shards_for(d, a.shard_size);
  BDL_CHECK(d.size() >= shards, "--shards: ", shards, " shards of ", d.size(), " samples");
  data::write_record_shards(d, a.output, split, shards);
  describe_written(a, split, out);
}

// An image folder's splits, decoded to u8 samples one image at a time.
void convert_images(const ConvertArgs& a, std::ostream& out) {
  const int64_t record = a.channels * a.image_size * a.image_size + 40;
  std::vector<std::string> classes;
  for (const data::Split split : {data::Split::train, data::Split::test}) {
    if (!data::image_split_directory(a.data, split)) continue;
    const data::ImageFolderInfo info =
        data::describe_image_folder(a.data, split, classes.empty() ? nullptr : &classes);
    if (classes.empty()) classes = info.classes;
    const auto n = static_cast<int64_t>(info.files.size());
    const int64_t shards =
        a.shards > 0 ? a.shards
                     : std::clamp<int64_t>((n * record + a.shard_size - 1) / a.shard_size, 1, n);
    BDL_CHECK(n >= shards, "--shards: ", shards, " shards of ", n, " images");
    data::write_image_shards(info, a.image_size, a.image_size, a.channels, a.output, split, shards);
    describe_written(a, split, out);
  }
  out << "classes (label: folder): ";
  for (size_t c = 0; c < classes.size(); ++c) out << (c ? ", " : "") << c << ": " << classes[c];
  out << "\n";
}

}  // namespace

int run_convert(const ConvertArgs& a, std::ostream& out) {
  validate(a);
  BDL_CHECK(!data::is_record_shard_dir(a.data), a.data,
            ": holds record shards already (bdl convert reads IDX, NumPy, CSV, image folders and "
            "Fashion-MNIST)");
  if (data::is_image_folder(a.data)) {
    convert_images(a, out);
    out << "records are tf.train.Example: \"features\" (bytes), \"shape\", \"label\"\n";
    return 0;
  }
  job::DataSpec spec;
  spec.source = a.data;
  spec.label_column = a.label_column;
  spec.feature_columns = a.feature_columns;
  spec.missing = a.missing;
  spec.standardize = a.standardize;
  spec.one_hot = a.one_hot;
  const job::Data d = job::load_data(spec, job::DataNeeds{}, 0, 1);
  convert_split(data::collect(d.train), a, data::Split::train, out);
  if (d.validation) convert_split(data::collect(*d.validation), a, data::Split::test, out);
  out << "records are tf.train.Example: \"features\" (bytes or floats), \"shape\", \"label\""
         ", \"weight\" when weighted; image bytes are stored as they are\n";
  return 0;
}

}  // namespace bdl::cli
