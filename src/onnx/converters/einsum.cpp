// Einsum of one or two operands as bdl's layers compute it: transposes and
// reshapes around one batched MatMul (the attention patterns "bhid,bhjd->bhij"
// and "bhij,bhjd->bhid", bilinear forms, outer products), or a transpose and a
// sum for one operand. Repeated labels within an operand (diagonals) are refused.
#include <algorithm>
#include <cctype>
#include <map>
#include <numeric>
#include <string>

#include "bdl/nn/activations.h"
#include "bdl/nn/matmul.h"
#include "bdl/nn/reduce.h"
#include "bdl/nn/transpose.h"
#include "onnx/converters/convert.h"

namespace bdl::onnx::convert {
namespace {

// An operand and the label of each of its dimensions.
struct Term {
  Value v;
  std::string labels;
};

// The equation's terms, "..." replaced by labels of its own ('0' onwards) as
// many as the operand's rank needs; the output term is made when implicit.
struct Equation {
  std::vector<std::string> inputs;
  std::string output;
};

// The terms left of "->", split at the commas.
std::vector<std::string> split_terms(const std::string& lhs) {
  std::vector<std::string> terms;
  size_t start = 0;
  for (size_t i = 0; i <= lhs.size(); ++i) {
    if (i < lhs.size() && lhs[i] != ',') continue;
    terms.push_back(lhs.substr(start, i - start));
    start = i + 1;
  }
  return terms;
}

// How many dimensions "..." stands for: the most any operand needs.
size_t ellipsis_rank(Context& c, const std::vector<std::string>& terms,
                     const std::vector<Value>& operands) {
  size_t rank = 0;
  for (size_t k = 0; k < terms.size(); ++k) {
    if (terms[k].find("...") == std::string::npos) continue;
    const size_t named = terms[k].size() - 3;
    if (operands[k].shape.size() < named) {
      c.invalid("term '", terms[k], "' for input ", k, " of shape ", shape_str(operands[k].shape));
    }
    rank = std::max(rank, operands[k].shape.size() - named);
  }
  return rank;
}

// "..." as labels '0', '1', ... of its `rank` dimensions, right-aligned within
// `total` (as broadcasting aligns them).
std::string expand_ellipsis(std::string term, size_t rank, size_t total) {
  const auto dots = term.find("...");
  if (dots == std::string::npos) return term;
  std::string fill;
  for (size_t r = 0; r < rank; ++r) fill += static_cast<char>('0' + (total - rank + r));
  term.replace(dots, 3, fill);
  return term;
}

// Implicit output: "..." first, then the labels used once, in alphabetical order.
std::string implicit_output(const std::vector<std::string>& inputs) {
  std::map<char, int> count;
  for (const auto& t : inputs) {
    for (char ch : t) ++count[ch];
  }
  std::string out;
  for (const auto& [ch, n] : count) {
    if (std::isdigit(static_cast<unsigned char>(ch))) out += ch;
  }
  for (const auto& [ch, n] : count) {
    if (n == 1 && !std::isdigit(static_cast<unsigned char>(ch))) out += ch;
  }
  return out;
}

Equation parse(Context& c, const std::string& text, const std::vector<Value>& operands) {
  std::string eq;
  for (char ch : text) {
    if (ch != ' ') eq += ch;
  }
  const auto arrow = eq.find("->");
  const std::vector<std::string> terms = split_terms(eq.substr(0, arrow));
  if (terms.size() != operands.size()) {
    c.invalid("equation '", text, "' has ", terms.size(), " terms for ", operands.size(),
              " inputs");
  }
  const size_t dots = ellipsis_rank(c, terms, operands);
  Equation out;
  for (size_t k = 0; k < terms.size(); ++k) {
    const size_t named = terms[k].find("...") == std::string::npos ? 0 : terms[k].size() - 3;
    const std::string term = expand_ellipsis(terms[k], operands[k].shape.size() - named, dots);
    for (char ch : term) {
      if (!std::isalnum(static_cast<unsigned char>(ch))) {
        c.invalid("equation '", text, "' has character '", ch, "'");
      }
      if (std::count(term.begin(), term.end(), ch) > 1) {
        c.unsupported("a label repeated within one term ('", term, "': a diagonal)");
      }
    }
    if (term.size() != operands[k].shape.size()) {
      c.invalid("term '", terms[k], "' has ", term.size(), " labels for input ", k, " of shape ",
                shape_str(operands[k].shape));
    }
    out.inputs.push_back(term);
  }
  out.output = arrow != std::string::npos ? expand_ellipsis(eq.substr(arrow + 2), dots, dots)
                                          : implicit_output(out.inputs);
  return out;
}

// The term's dimensions transposed to `order` (a permutation of its labels).
Term permuted(Context& c, const Term& t, const std::string& order) {
  if (order == t.labels) return t;
  std::vector<int64_t> perm;
  for (char ch : order) perm.push_back(static_cast<int64_t>(t.labels.find(ch)));
  Value y = c.add(make<nn::Transpose>(perm), {t.v});
  y.batch_axis = -1;
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] == t.v.batch_axis) y.batch_axis = static_cast<int>(i);
  }
  return {y, order};
}

// Sums the term over the labels that `keep` lacks.
Term summed(Context& c, const Term& t, const std::string& keep) {
  std::vector<int64_t> axes;
  std::string left;
  for (size_t i = 0; i < t.labels.size(); ++i) {
    if (keep.find(t.labels[i]) == std::string::npos) {
      axes.push_back(static_cast<int64_t>(i));
    } else {
      left += t.labels[i];
    }
  }
  if (axes.empty()) return t;
  Value y = c.add(make<nn::Reduce>(nn::ReduceOp::sum, axes, false), {t.v});
  y.batch_axis = reduced_batch_axis(t.v, axes, false);
  keep_folds(y, t.v);
  return {y, left};
}

int64_t size_of(const Term& t, char label) { return t.v.shape[t.labels.find(label)]; }

// The product of the sizes of `labels` in t.
int64_t product(const Term& t, const std::string& labels) {
  int64_t p = 1;
  for (char ch : labels) p *= size_of(t, ch);
  return p;
}

// Where the batch goes when t (already in the order groups concatenate) is
// reshaped to one dimension per group: the group holding it, or -1.
int group_of_batch(const Term& t, const std::vector<std::string>& groups) {
  if (t.v.batch_axis < 0) return -1;
  const char b = t.labels[static_cast<size_t>(t.v.batch_axis)];
  for (size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].find(b) != std::string::npos) return static_cast<int>(g);
  }
  return -1;
}

Value two_operands(Context& c, Term a, Term b, const std::string& out) {
  auto in = [](const std::string& s, char ch) { return s.find(ch) != std::string::npos; };
  // Labels of one operand only that the output lacks are summed first.
  std::string keep_a = out + b.labels, keep_b = out + a.labels;
  a = summed(c, a, keep_a);
  b = summed(c, b, keep_b);
  std::string batch, contract, free_a, free_b;
  for (char ch : a.labels) {
    if (in(b.labels, ch)) {
      (in(out, ch) ? batch : contract) += ch;
    } else {
      free_a += ch;
    }
  }
  for (char ch : b.labels) {
    if (!in(a.labels, ch)) free_b += ch;
  }
  for (char ch : batch) {
    if (size_of(a, ch) != size_of(b, ch)) {
      c.unsupported("label '", ch, "' of sizes ", size_of(a, ch), " and ", size_of(b, ch),
                    " (broadcasting between the terms)");
    }
  }
  a = permuted(c, a, batch + free_a + contract);
  b = permuted(c, b, batch + contract + free_b);
  Shape sa, sb;
  std::vector<std::string> groups_a, groups_b;
  for (char ch : batch) {
    sa.push_back(size_of(a, ch));
    sb.push_back(size_of(b, ch));
    groups_a.emplace_back(1, ch);
    groups_b.emplace_back(1, ch);
  }
  sa.push_back(product(a, free_a));
  sa.push_back(product(a, contract));
  sb.push_back(product(b, contract));
  sb.push_back(product(b, free_b));
  groups_a.insert(groups_a.end(), {free_a, contract});
  groups_b.insert(groups_b.end(), {contract, free_b});
  const Value ma = reshape_to(c, a.v, sa, group_of_batch(a, groups_a));
  const Value mb = reshape_to(c, b.v, sb, group_of_batch(b, groups_b));
  Value y;
  if (mb.is_constant() && !ma.is_constant()) {
    auto m = std::make_unique<nn::MatMul>(mb.shape);
    copy_into(m->weight(), mb.constant, c, "the second operand");
    y = c.add(std::move(m), {ma});
  } else if (ma.is_constant() && !mb.is_constant()) {
    c.unsupported("a constant first operand and a computed second one");
  } else {
    y = c.add(make<nn::MatMul>(), {ma, mb});
  }
  // (batch..., free_a, free_b) back to one dimension per label.
  Shape full;
  std::string labels = batch + free_a + free_b;
  for (char ch : batch) full.push_back(size_of(a, ch));
  for (char ch : free_a) full.push_back(size_of(a, ch));
  for (char ch : free_b) full.push_back(size_of(b, ch));
  int batch_axis = -1;
  if (ma.batch_axis >= 0 && !ma.batch_merged()) {
    const int g = ma.batch_axis;
    const std::string& group = groups_a[static_cast<size_t>(g)];
    if (group.size() == 1) batch_axis = static_cast<int>(labels.find(group[0]));
  }
  y.batch_axis = ma.batch_axis;
  const Value shaped = reshape_to(c, y, full, batch_axis);
  return permuted(c, Term{shaped, labels}, out).v;
}

}  // namespace

void einsum(Context& c) {
  std::vector<Value> operands;
  for (size_t i = 0; i < c.input_count(); ++i) operands.push_back(c.input(i));
  if (operands.empty() || operands.size() > 2) {
    c.unsupported("Einsum of ", operands.size(), " operands; bdl computes one or two");
  }
  const Equation eq = parse(c, c.text("equation", ""), operands);
  for (char ch : eq.output) {
    bool found = false;
    for (const auto& t : eq.inputs) found = found || t.find(ch) != std::string::npos;
    if (!found) c.invalid("output label '", ch, "' is in no input term");
  }
  if (operands.size() == 1) {
    const Term t = summed(c, Term{operands[0], eq.inputs[0]}, eq.output);
    const Term y = permuted(c, t, eq.output);
    c.set_output(0, y.labels == eq.inputs[0] && y.v.node == operands[0].node
                        ? c.add(make<nn::Identity>(), {y.v})
                        : y.v);
    return;
  }
  c.set_output(0, two_operands(c, Term{operands[0], eq.inputs[0]}, Term{operands[1], eq.inputs[1]},
                               eq.output));
}

}  // namespace bdl::onnx::convert
