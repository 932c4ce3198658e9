// Verilated check that the generated SystemVerilog package (hw/card/rtl/ipsec_card_pkg.sv) and
// the generated C++ header agree: records encoded by the C++ codec decode to the same fields
// through the SV packed structs, a completion built from SV struct fields decodes in C++, and the
// package's phase function and constants match the header's. Drives tests/card_contract/rtl/
// card_record_probe.sv.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>

#include <gtest/gtest.h>

#include "Vcard_record_probe.h"
#include "ipsec_accel/card_regs.h"
#include "verilated.h"

namespace ipsec::card {
namespace {

// Record byte k is bit [8k+7:8k] of the port; Verilator stores wide ports as 32-bit words.
template <size_t N, typename Wide>
void ToPort(const std::array<std::byte, N>& rec, Wide& port) {
  for (size_t w = 0; w < N / 4; ++w) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v |= std::to_integer<uint32_t>(rec[4 * w + i]) << (8 * i);
    port[w] = v;
  }
}

template <size_t N, typename Wide>
std::array<std::byte, N> FromPort(const Wide& port) {
  std::array<std::byte, N> rec{};
  for (size_t k = 0; k < N; ++k) rec[k] = static_cast<std::byte>((port[k / 4] >> (8 * (k % 4))) & 0xff);
  return rec;
}

uint64_t Wide64(const VlWide<4>& w, size_t word) { return w[word] | (uint64_t{w[word + 1]} << 32); }

class CardRecordProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ctx_ = std::make_unique<VerilatedContext>();
    dut_ = std::make_unique<Vcard_record_probe>(ctx_.get());
  }
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vcard_record_probe> dut_;
  std::mt19937_64 rng_{7};
};

TEST_F(CardRecordProbeTest, DescriptorEncodedInCppDecodesInRtl) {
  for (int i = 0; i < 200; ++i) {
    ReqDesc d;
    d.buf_addr = rng_();
    d.buf_len = static_cast<uint16_t>(rng_());
    d.pkt_offset = static_cast<uint16_t>(rng_());
    d.pkt_len = static_cast<uint16_t>(rng_());
    d.dir = static_cast<Dir>(rng_() & 1);
    d.sa_valid = (rng_() & 1) != 0;
    d.irq = (rng_() & 1) != 0;
    d.sa_index = static_cast<uint32_t>(rng_() & 0xffffff);
    d.user_data = rng_();
    auto raw = d.Encode();
    const bool dirty = (i % 4) == 3;
    if (dirty) raw[15] = std::byte{0x80};  // a reserved bit
    ToPort(raw, dut_->desc_i);
    dut_->eval();
    EXPECT_EQ(dut_->desc_buf_addr_o, d.buf_addr);
    EXPECT_EQ(dut_->desc_pkt_offset_o, d.pkt_offset);
    EXPECT_EQ(dut_->desc_pkt_len_o, d.pkt_len);
    EXPECT_EQ(dut_->desc_dir_o, static_cast<uint8_t>(d.dir));
    EXPECT_EQ(dut_->desc_sa_valid_o, d.sa_valid);
    EXPECT_EQ(dut_->desc_sa_index_o, d.sa_index);
    EXPECT_EQ(dut_->desc_user_data_o, d.user_data);
    EXPECT_EQ(dut_->desc_reserved_clear_o, !dirty);
    EXPECT_EQ(ReqDesc::ReservedClear(raw), !dirty);
  }
}

TEST_F(CardRecordProbeTest, CompletionBuiltInRtlDecodesInCpp) {
  for (int i = 0; i < 200; ++i) {
    Cpl want;
    want.user_data = rng_();
    want.seq = rng_();
    want.spi = static_cast<uint32_t>(rng_());
    want.sa_index = static_cast<uint32_t>(rng_() & 0xffffff);
    want.next_header = 4;  // fixed in the probe
    want.out_offset = 64;  // fixed in the probe
    want.out_len = static_cast<uint16_t>(rng_());
    want.desc_index = static_cast<uint16_t>(rng_());
    want.status = (i % 2) ? CplStatus::kReplay : CplStatus::kDmaWriteError;
    want.dir = Dir::kInbound;  // fixed in the probe
    want.phase = (rng_() & 1) != 0;
    dut_->cpl_user_data_i = want.user_data;
    dut_->cpl_seq_i = want.seq;
    dut_->cpl_spi_i = want.spi;
    dut_->cpl_sa_index_i = want.sa_index;
    dut_->cpl_out_len_i = want.out_len;
    dut_->cpl_desc_index_i = want.desc_index;
    dut_->cpl_status_i = static_cast<uint8_t>(want.status);
    dut_->cpl_phase_i = want.phase;
    dut_->eval();
    const auto raw = FromPort<Cpl::kBytes>(dut_->cpl_o);
    EXPECT_EQ(Cpl::Decode(raw), want);
    EXPECT_TRUE(Cpl::ReservedClear(raw));
    EXPECT_EQ(Cpl::Phase(raw), want.phase);
  }
}

TEST_F(CardRecordProbeTest, SaParamsAndEventDecodeInRtl) {
  SaParams p;
  p.spi = 0xc0ffee01;
  p.suite = Suite::kAesGcm256;
  p.df_mode = DfMode::kClear;
  p.esn = true;
  p.replay_window = 1024;
  p.hard_packets = 0x0123456789abcdef;
  p.tunnel_dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};  // 2001:db8::1
  ToPort(p.Encode(), dut_->sa_i);
  Event e;
  e.kind = EventType::kQueueError;
  e.phase = true;
  ToPort(e.Encode(), dut_->event_i);
  dut_->eval();
  EXPECT_EQ(dut_->sa_spi_o, p.spi);
  EXPECT_EQ(dut_->sa_suite_o, static_cast<uint8_t>(Suite::kAesGcm256));
  EXPECT_EQ(dut_->sa_df_mode_o, static_cast<uint8_t>(DfMode::kClear));
  EXPECT_EQ(dut_->sa_esn_o, 1);
  EXPECT_EQ(dut_->sa_replay_window_o, 1024u);
  EXPECT_EQ(dut_->sa_hard_packets_o, p.hard_packets);
  // The address keeps its byte order: byte 0 (0x20) in the field's lowest bits.
  EXPECT_EQ(Wide64(dut_->sa_tunnel_dst_o, 0), 0x00000000b80d0120u);
  EXPECT_EQ(Wide64(dut_->sa_tunnel_dst_o, 2), 0x0100000000000000u);
  EXPECT_EQ(dut_->event_kind_o, static_cast<uint8_t>(EventType::kQueueError));
  EXPECT_EQ(dut_->event_phase_o, 1);
}

TEST_F(CardRecordProbeTest, PhaseFunctionAndConstantsMatchTheHeader) {
  for (uint32_t log2 = 4; log2 <= 15; ++log2) {
    for (uint32_t index : {0u, 1u, (1u << log2) - 1, 1u << log2, (1u << log2) + 3, 0xffffu}) {
      dut_->index_i = static_cast<uint16_t>(index);
      dut_->size_log2_i = static_cast<uint8_t>(log2);
      dut_->eval();
      EXPECT_EQ(dut_->phase_o, ExpectedPhase(index, log2)) << index << " " << log2;
    }
  }
  EXPECT_EQ(dut_->ring_rq_prod_offset_o, reg::kRingRqProd);
  EXPECT_EQ(dut_->sa_key_offset_o, reg::kSaKey);
  EXPECT_EQ(dut_->cpl_phase_lsb_o, cpl::kPhase.bit);
  const uint32_t records = field::kIdCapRecordsReqDescBytes.Put(0, ReqDesc::kBytes) |
                           field::kIdCapRecordsCplBytes.Put(0, Cpl::kBytes) |
                           field::kIdCapRecordsEventBytes.Put(0, Event::kBytes) |
                           field::kIdCapRecordsSaParamBytes.Put(0, SaParams::kBytes);
  EXPECT_EQ(dut_->id_cap_records_reset_o, records);
}

}  // namespace
}  // namespace ipsec::card
