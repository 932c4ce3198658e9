// SPDX-License-Identifier: Apache-2.0
//
// Driver for the Verilated hmac_sha256_engine models (classes Vhmac_sha256_engine_<variant>),
// shared by the GoogleTest bench (tb/hmac_sha256_engine) and the throughput bench (bench/).
// No gtest here: protocol violations seen by the driver are reported in RunResult::error.
//
// The producer model: messages are assigned to contexts as contexts free up (in input order);
// each cycle, unless an idle cycle is drawn, one beat is offered for a random context that has
// data (only contexts whose ctx_ready_o bit is set, except with probability hol_pct, which
// offers to a stalled context and so blocks the port). out_ready_i is drawn every cycle. MACs
// are checked for per-context order (out_ctx_o, out_id_o against a FIFO per context).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "Vhmac_sha256_engine_c1.h"
#include "Vhmac_sha256_engine_c2.h"
#include "Vhmac_sha256_engine_c3w16.h"
#include "Vhmac_sha256_engine_c4.h"
#include "Vhmac_sha256_engine_c4w16.h"
#include "Vhmac_sha256_engine_c8.h"
#include "hw/ip/sha2/tb/sha2_tb_util.h"

namespace ipsec::hw::sha2_tb {

template <class Model, int kCtx, int kBeat>
struct Variant {
  using M = Model;
  static constexpr int kContexts = kCtx;
  static constexpr int kBeatBytes = kBeat;
};

// Must match the VARIANTS of hmac_sha256_engine_models in ../CMakeLists.txt.
using C1 = Variant<Vhmac_sha256_engine_c1, 1, 8>;
using C2 = Variant<Vhmac_sha256_engine_c2, 2, 8>;
using C3W16 = Variant<Vhmac_sha256_engine_c3w16, 3, 16>;
using C4 = Variant<Vhmac_sha256_engine_c4, 4, 8>;
using C4W16 = Variant<Vhmac_sha256_engine_c4w16, 4, 16>;
using C8 = Variant<Vhmac_sha256_engine_c8, 8, 8>;

constexpr int kIdBits = 8;  // RTL default

inline Bytes OpenSslHmac(const Bytes& key, const Bytes& msg) {
  Bytes mac(32);
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), msg.data(), msg.size(), mac.data(),
       &len);
  mac.resize(len);
  return mac;
}

struct Msg {
  Bytes data;
  HmacStates states;
  Bytes expect;  // full 32-byte MAC
};

inline Msg MakeMsg(const Bytes& key, const Bytes& data) {
  return Msg{data, PrecomputeHmac(key), OpenSslHmac(key, data)};
}

inline Bytes RandomBytes(std::mt19937_64& rng, size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

struct RunOptions {
  int idle_pct = 0;    // chance of no beat offered in a cycle
  int stall_pct = 0;   // chance of out_ready_i low in a cycle
  int hol_pct = 0;     // chance of offering a beat to a context regardless of ctx_ready_o
  uint64_t seed = 1;
};

struct RunResult {
  std::vector<Bytes> macs;              // by message index
  std::vector<uint64_t> first_beat;     // cycle the first beat was accepted
  std::vector<uint64_t> last_beat;      // cycle the last beat was accepted
  std::vector<uint64_t> done;           // cycle the MAC left
  std::vector<uint64_t> done_order;     // message indices in output order
  std::vector<uint8_t> beat_taken;      // per cycle of the run: 1 if a beat was accepted
  uint64_t start = 0;                   // cycle of the first iteration
  uint64_t cycles = 0;
  std::string error;                    // empty if the protocol and ordering checks passed
};

// Drives one Verilated engine.
template <class V>
class EngineBench {
 public:
  EngineBench() : ctx_(std::make_unique<VerilatedContext>()) {
    dut_ = std::make_unique<typename V::M>(ctx_.get());
    dut_->clk_i = 0;
    dut_->rst_i = 1;
    dut_->in_valid_i = 0;
    dut_->out_ready_i = 0;
    for (int i = 0; i < 4; ++i) Tick();
    dut_->rst_i = 0;
    dut_->eval();
  }
  ~EngineBench() { dut_->final(); }
  EngineBench(const EngineBench&) = delete;
  EngineBench& operator=(const EngineBench&) = delete;

  RunResult Run(const std::vector<Msg>& msgs, const RunOptions& opt) {
    constexpr int kC = V::kContexts;
    constexpr int kB = V::kBeatBytes;
    std::mt19937_64 rng(opt.seed);
    RunResult res;
    res.macs.resize(msgs.size());
    res.first_beat.assign(msgs.size(), 0);
    res.last_beat.assign(msgs.size(), 0);
    res.done.assign(msgs.size(), 0);

    struct CtxState {
      int msg = -1;             // message being sent on this context
      size_t offset = 0;        // bytes already accepted
      std::deque<int> pending;  // messages whose MAC is still due, in input order
    };
    std::vector<CtxState> cs(kC);
    size_t next_msg = 0, completed = 0;
    bool presenting = false;
    int pres_ctx = 0;
    size_t pres_n = 0;
    bool pres_last = false;
    res.start = cycle_;
    uint64_t budget = 4000;
    for (const auto& m : msgs) budget += (m.data.size() / 64 + 3) * 140 * 3;

    while (completed < msgs.size()) {
      // New messages go to contexts the bench has finished sending on.
      for (int c = 0; c < kC && next_msg < msgs.size(); ++c) {
        if (cs[c].msg < 0) {
          cs[c].msg = static_cast<int>(next_msg++);
          cs[c].offset = 0;
        }
      }
      if (!presenting && static_cast<int>(rng() % 100) >= opt.idle_pct) {
        const bool any_ctx = static_cast<int>(rng() % 100) < opt.hol_pct;
        int cand[64];
        int ncand = 0;
        for (int c = 0; c < kC; ++c) {
          if (cs[c].msg >= 0 && (any_ctx || ((dut_->ctx_ready_o >> c) & 1))) cand[ncand++] = c;
        }
        if (ncand > 0) {
          pres_ctx = cand[rng() % ncand];
          const CtxState& s = cs[pres_ctx];
          const Msg& m = msgs[s.msg];
          const size_t remain = m.data.size() - s.offset;
          pres_n = std::min<size_t>(kB, remain);
          pres_last = (remain == pres_n);
          dut_->in_ctx_i = pres_ctx;
          dut_->in_id_i = s.msg & ((1 << kIdBits) - 1);
          if (s.offset == 0) {
            SetState(dut_->in_istate_i, m.states.istate);
            SetState(dut_->in_ostate_i, m.states.ostate);
          } else {
            // Only sampled on the first beat: garbage here must not matter.
            State junk;
            for (auto& w : junk) w = static_cast<uint32_t>(rng());
            SetState(dut_->in_istate_i, junk);
            SetState(dut_->in_ostate_i, junk);
          }
          SetBeat(dut_->in_data_i, m.data.data() + s.offset, pres_n, static_cast<uint8_t>(rng()));
          dut_->in_bytes_i = static_cast<uint8_t>(pres_n);
          dut_->in_last_i = pres_last;
          presenting = true;
        }
      }
      dut_->in_valid_i = presenting;
      dut_->out_ready_i = static_cast<int>(rng() % 100) >= opt.stall_pct;
      dut_->eval();

      bool taken = false;
      if (presenting && dut_->in_ready_o) {
        CtxState& s = cs[pres_ctx];
        if (s.offset == 0) res.first_beat[s.msg] = cycle_;
        s.offset += pres_n;
        if (pres_last) {
          res.last_beat[s.msg] = cycle_;
          s.pending.push_back(s.msg);
          s.msg = -1;
        }
        presenting = false;
        taken = true;
      }
      res.beat_taken.push_back(taken);
      if (dut_->out_valid_o && dut_->out_ready_i) {
        const int c = static_cast<int>(dut_->out_ctx_o);
        if (c >= kC || cs[c].pending.empty()) {
          res.error = "MAC from context " + std::to_string(c) + " with nothing pending";
          break;
        }
        const int m = cs[c].pending.front();
        cs[c].pending.pop_front();
        if (dut_->out_id_o != static_cast<unsigned>(m & ((1 << kIdBits) - 1))) {
          res.error = "per-context order broken on context " + std::to_string(c);
          break;
        }
        res.macs[m] = GetBytesBe(dut_->out_mac_o);
        res.done[m] = cycle_;
        res.done_order.push_back(m);
        ++completed;
      }
      Tick();
      if (cycle_ - res.start > budget) {
        res.error = "timeout: " + std::to_string(completed) + " of " + std::to_string(msgs.size()) +
                    " MACs";
        break;
      }
    }
    dut_->in_valid_i = 0;
    dut_->out_ready_i = 0;
    res.cycles = cycle_ - res.start;
    return res;
  }

  uint64_t cycle() const { return cycle_; }

 private:
  void Tick() {
    dut_->clk_i = 1;
    dut_->eval();
    dut_->clk_i = 0;
    dut_->eval();
    ++cycle_;
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<typename V::M> dut_;
  uint64_t cycle_ = 0;
};

}  // namespace ipsec::hw::sha2_tb
