// Walks over wabt IR expression lists, shared by the parse step's scans (parse.cpp) and the
// translation's unit planning (translate.cpp). Internal to the engine.
#pragma once

#include <wabt/cast.h>
#include <wabt/ir.h>

namespace cumulus::engine {

// True if `pred` holds for any expression in `exprs`, nested blocks included.
template <typename Pred>
inline bool anyExpr(const wabt::ExprList& exprs, const Pred& pred) {
  for (const wabt::Expr& e : exprs) {
    if (pred(e)) return true;
    switch (e.type()) {
      case wabt::ExprType::Block:
        if (anyExpr(wabt::cast<wabt::BlockExpr>(&e)->block.exprs, pred)) return true;
        break;
      case wabt::ExprType::Loop:
        if (anyExpr(wabt::cast<wabt::LoopExpr>(&e)->block.exprs, pred)) return true;
        break;
      case wabt::ExprType::If: {
        auto* i = wabt::cast<wabt::IfExpr>(&e);
        if (anyExpr(i->true_.exprs, pred) || anyExpr(i->false_, pred)) return true;
        break;
      }
      case wabt::ExprType::Try: {
        auto* t = wabt::cast<wabt::TryExpr>(&e);
        if (anyExpr(t->block.exprs, pred)) return true;
        for (const wabt::Catch& c : t->catches)
          if (anyExpr(c.exprs, pred)) return true;
        break;
      }
      default:
        break;
    }
  }
  return false;
}

}  // namespace cumulus::engine
