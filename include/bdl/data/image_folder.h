#pragma once

// Image folders (issue 13): one sub-folder of JPEG and PNG files per class,
// as ImageNet and Keras' image_dataset_from_directory lay them out. Either DIR
// holds the class folders (all of it trains), or DIR/train does, with
// DIR/test (or DIR/val) for validation. Files are decoded and transformed as
// they stream, by background threads, into reused batch buffers.
#include <optional>
#include <string>
#include <vector>

#include "bdl/data/image_transform.h"
#include "bdl/data/source.h"

namespace bdl::data {

struct ImageFolderInfo {
  std::string directory;             // the split's: DIR or DIR/train, DIR/test, DIR/val
  std::vector<std::string> classes;  // sub-folder names, sorted
  std::vector<std::string> files;    // by class, then by name
  std::vector<int64_t> labels;       // each file's class
  std::vector<int64_t> class_counts;
  int64_t bytes = 0;
  // Files that are not .jpg, .jpeg or .png (any case) are left out, and
  // counted; hidden files (a leading dot) are not counted.
  int64_t ignored = 0;
  std::string first_ignored;
};

// Whether DIR (or DIR/train) holds class folders with at least one image.
bool is_image_folder(const std::string& directory);

// The split's directory, or nothing (no test split).
std::optional<std::string> image_split_directory(const std::string& directory, Split split);

// Lists a split. The test split takes the training split's classes
// (`classes`): a class folder it has beyond them is an error naming it.
ImageFolderInfo describe_image_folder(const std::string& directory, Split split,
                                      const std::vector<std::string>* classes = nullptr);

struct ImageFolderOptions {
  ImageTransform transform;
  // An image that does not decode is skipped and counted (its place in the
  // batch taken by the next image of the epoch's order) instead of stopping
  // the run.
  bool skip_bad_records = false;
  // Decoding threads: at least this many (the stream's decode_threads may ask
  // for more).
  int decode_threads = 1;
};

// The split streamed: worker r of W reads the files f with f % W == r of the
// sorted list, in an order shuffled per epoch, every sample transformed with
// draws seeded from (seed, worker, epoch, place in the epoch). Batches hold
// f32 C x H x W samples and class indices.
Source image_folder(const std::string& directory, Split split, const ImageFolderOptions& options,
                    const std::vector<std::string>* classes = nullptr);
// The same, from a listing already made.
Source image_folder(ImageFolderInfo info, const ImageFolderOptions& options);

// Writes a split of an image folder as record shards (data::write_record_shards)
// of u8 samples, channels x height x width: each image resized so that its
// short side fills the sample, then its centre, as bytes, in an order shuffled
// once (seed 1) so that every shard holds every class. Images are decoded
// one at a time (memory does not grow with the folder); one that does not
// decode is an error naming it.
void write_image_shards(const ImageFolderInfo& info, int64_t height, int64_t width, int channels,
                        const std::string& directory, Split split, int64_t shards);

// Writes images as an image folder: DIRECTORY/CLASS/NNNNNN.png (or .jpg), one
// file per sample, `images` u8 of N x H x W (grey) or N x H x W x C (C 1 or
// 3), `labels` i64 class indices into `classes` (the folder names; empty:
// "0", "1", ...). Resized to out_height x out_width first when those are
// positive (the antialiased resize), on `threads` threads.
struct ImageWriteOptions {
  std::string format = "png";  // or "jpeg"
  int quality = 90;            // JPEG
  int64_t out_height = 0, out_width = 0;
  int threads = 1;
};
void write_image_folder(const Tensor& images, const Tensor& labels,
                        const std::vector<std::string>& classes, const std::string& directory,
                        const ImageWriteOptions& options = {});

}  // namespace bdl::data
