// The one declaration of a layer: its options' fields give its attributes,
// creation by name and default description.
#include <gtest/gtest.h>

#include "bdl/nn/activations.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/pad.h"
#include "bdl/nn/resize.h"
#include "support/errors.h"

namespace bdl::nn {
namespace {

using testing::error_of;

TEST(LayerDeclaration, TypeComesFromKType) {
  EXPECT_EQ(Conv2d(Conv2dOptions{.in_channels = 1, .out_channels = 2}).type(), "Conv2d");
  EXPECT_EQ(ReLU().type(), std::string(ReLU::kType));
}

TEST(LayerDeclaration, AttributesAreTheOptionsFields) {
  Attributes a;
  Pad(std::vector<int64_t>{1, 2}, PadMode::reflect, 0.5f).attributes(a);
  ASSERT_EQ(a.entries().size(), 3u);
  EXPECT_EQ(a.integers("pads"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(a.text("mode"), "reflect");
  EXPECT_DOUBLE_EQ(a.real("value"), 0.5);
}

TEST(LayerDeclaration, CreateReadsTheFieldsBack) {
  Attributes a;
  Resize(ResizeOptions{.mode = ResizeMode::cubic, .height = 3, .width = 4, .cubic_a = -0.5})
      .attributes(a);
  auto m = create_module("Resize", a, {});
  const auto& o = dynamic_cast<Resize&>(*m).options();
  EXPECT_EQ(o.mode, ResizeMode::cubic);
  EXPECT_EQ(o.height, 3);
  EXPECT_EQ(o.width, 4);
  EXPECT_DOUBLE_EQ(o.cubic_a, -0.5);
}

TEST(LayerDeclaration, FieldsAddedLaterKeepTheirDefaultsInOlderFiles) {
  Attributes a("conv1");
  Conv2d(Conv2dOptions{.in_channels = 1, .out_channels = 2, .bias = false}).attributes(a);
  Attributes older("conv1");
  for (const auto& [name, value] : a.entries()) {
    if (name != "bias") older.put(name, value);
  }
  auto m = create_module("Conv2d", older, {});
  EXPECT_TRUE(dynamic_cast<Conv2d&>(*m).options().bias);
}

TEST(LayerDeclaration, MissingRequiredFieldIsNamed) {
  Attributes a("conv1");
  a.set("out_channels", int64_t{2});
  EXPECT_EQ(error_of([&] { create_module("Conv2d", a, {}); }),
            "conv1: attribute 'in_channels' is missing");
}

TEST(LayerDeclaration, UnknownEnumNameListsTheKnownOnes) {
  Attributes a("pad");
  a.set("pads", std::vector<int64_t>{0, 1}).set("mode", "wrap");
  EXPECT_EQ(error_of([&] { create_module("Pad", a, {}); }),
            "pad: attribute 'mode' is 'wrap', not one of constant, reflect or edge");
}

TEST(LayerDeclaration, OptionsAreCheckedWhenCreatedFromAFile) {
  Attributes a("fc");
  a.set("negative_slope", std::nan(""));
  EXPECT_EQ(error_of([&] { create_module("LeakyReLU", a, {}); }),
            "LeakyReLU: negative_slope must be finite");
}

TEST(LayerDeclaration, DefaultDescriptionShowsFieldsThatDifferFromDefaults) {
  EXPECT_EQ(LeakyReLU().describe(), "LeakyReLU");
  EXPECT_EQ(LeakyReLU(0.25f).describe(), "LeakyReLU(negative_slope=0.25)");
  EXPECT_EQ(Pad(std::vector<int64_t>{1, 1}, PadMode::edge).describe().substr(0, 4), "Pad(");
}

TEST(LayerDeclaration, ChildlessLayerRefusesChildren) {
  std::vector<std::unique_ptr<Module>> children;
  children.push_back(std::make_unique<ReLU>());
  Attributes a("r");
  EXPECT_EQ(error_of([&] { create_module("ReLU", a, std::move(children)); }),
            "r: a ReLU has no child modules, found 1");
}

}  // namespace
}  // namespace bdl::nn
