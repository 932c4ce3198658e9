// Binding of the sim agents to any Verilated top with the card's Vitis RTL kernel ports:
//   ap_clk, ap_rst_n, interrupt;
//   s_axi_control_{awaddr,awvalid,awready,wdata,wstrb,wvalid,wready,bresp,bvalid,bready,
//                  araddr,arvalid,arready,rdata,rresp,rvalid,rready}   (AXI4-Lite, 32-bit data);
//   m_axi_gmem_{awid,awaddr,awlen,awsize,awburst,awvalid,awready,wdata,wstrb,wlast,wvalid,wready,
//               bid,bresp,bvalid,bready,arid,araddr,arlen,arsize,arburst,arvalid,arready,
//               rid,rdata,rresp,rlast,rvalid,rready}   (AXI4, 64-bit address, 512-bit data).
// Other ports (AxCACHE, AxPROT, ...) may exist and are left alone; inputs not listed stay 0.
//
// Verilator picks the C++ type of each field from its width (CData/SData/IData/QData, VlWide for
// the 512-bit buses), so the copies below convert by value; any ID width up to 32 bits works.
// `interrupt` is a common C++ word and Verilator renames the member to __SYM__interrupt; both
// spellings are accepted.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#include "sim/axi_signals.h"

namespace ipsec::sim {

static_assert(std::endian::native == std::endian::little, "byte lanes are copied as little-endian words");

template <class M>
concept HasInterruptPort = requires(M& m) {
  m.interrupt;
};
template <class M>
concept HasRenamedInterruptPort = requires(M& m) {
  m.__SYM__interrupt;
};

template <class M>
concept VitisKernelModel = requires(M& m) {
  m.eval();
  m.final();
  m.ap_clk;
  m.ap_rst_n;
  m.s_axi_control_awaddr;
  m.s_axi_control_awvalid;
  m.s_axi_control_awready;
  m.s_axi_control_wdata;
  m.s_axi_control_wstrb;
  m.s_axi_control_wvalid;
  m.s_axi_control_wready;
  m.s_axi_control_bresp;
  m.s_axi_control_bvalid;
  m.s_axi_control_bready;
  m.s_axi_control_araddr;
  m.s_axi_control_arvalid;
  m.s_axi_control_arready;
  m.s_axi_control_rdata;
  m.s_axi_control_rresp;
  m.s_axi_control_rvalid;
  m.s_axi_control_rready;
  m.m_axi_gmem_awid;
  m.m_axi_gmem_awaddr;
  m.m_axi_gmem_awlen;
  m.m_axi_gmem_awsize;
  m.m_axi_gmem_awburst;
  m.m_axi_gmem_awvalid;
  m.m_axi_gmem_awready;
  m.m_axi_gmem_wdata[15];
  m.m_axi_gmem_wstrb;
  m.m_axi_gmem_wlast;
  m.m_axi_gmem_wvalid;
  m.m_axi_gmem_wready;
  m.m_axi_gmem_bid;
  m.m_axi_gmem_bresp;
  m.m_axi_gmem_bvalid;
  m.m_axi_gmem_bready;
  m.m_axi_gmem_arid;
  m.m_axi_gmem_araddr;
  m.m_axi_gmem_arlen;
  m.m_axi_gmem_arsize;
  m.m_axi_gmem_arburst;
  m.m_axi_gmem_arvalid;
  m.m_axi_gmem_arready;
  m.m_axi_gmem_rid;
  m.m_axi_gmem_rdata[15];
  m.m_axi_gmem_rresp;
  m.m_axi_gmem_rlast;
  m.m_axi_gmem_rvalid;
  m.m_axi_gmem_rready;
}
&&(HasInterruptPort<M> || HasRenamedInterruptPort<M>);

namespace ports_internal {

template <class F, class V>
inline void Put(F& field, V value) {
  field = static_cast<F>(value);
}

}  // namespace ports_internal

template <VitisKernelModel M>
bool ReadInterrupt(const M& m) {
  if constexpr (HasInterruptPort<M>) {
    return m.interrupt != 0;
  } else {
    return m.__SYM__interrupt != 0;
  }
}

template <VitisKernelModel M>
Axi4MasterOut ReadGmem(const M& m) {
  Axi4MasterOut o;
  o.awvalid = m.m_axi_gmem_awvalid != 0;
  o.awaddr = static_cast<uint64_t>(m.m_axi_gmem_awaddr);
  o.awid = static_cast<uint32_t>(m.m_axi_gmem_awid);
  o.awlen = static_cast<uint8_t>(m.m_axi_gmem_awlen);
  o.awsize = static_cast<uint8_t>(m.m_axi_gmem_awsize);
  o.awburst = static_cast<uint8_t>(m.m_axi_gmem_awburst);
  o.wvalid = m.m_axi_gmem_wvalid != 0;
  for (unsigned i = 0; i < kAxiDataBytes / 4; ++i) {
    const uint32_t word = m.m_axi_gmem_wdata[i];
    std::memcpy(o.wdata.data() + 4 * i, &word, 4);
  }
  o.wstrb = static_cast<uint64_t>(m.m_axi_gmem_wstrb);
  o.wlast = m.m_axi_gmem_wlast != 0;
  o.bready = m.m_axi_gmem_bready != 0;
  o.arvalid = m.m_axi_gmem_arvalid != 0;
  o.araddr = static_cast<uint64_t>(m.m_axi_gmem_araddr);
  o.arid = static_cast<uint32_t>(m.m_axi_gmem_arid);
  o.arlen = static_cast<uint8_t>(m.m_axi_gmem_arlen);
  o.arsize = static_cast<uint8_t>(m.m_axi_gmem_arsize);
  o.arburst = static_cast<uint8_t>(m.m_axi_gmem_arburst);
  o.rready = m.m_axi_gmem_rready != 0;
  return o;
}

template <VitisKernelModel M>
void WriteGmem(M& m, const Axi4SlaveOut& s) {
  using ports_internal::Put;
  Put(m.m_axi_gmem_awready, s.awready);
  Put(m.m_axi_gmem_wready, s.wready);
  Put(m.m_axi_gmem_bvalid, s.bvalid);
  Put(m.m_axi_gmem_bid, s.bid);
  Put(m.m_axi_gmem_bresp, s.bresp);
  Put(m.m_axi_gmem_arready, s.arready);
  Put(m.m_axi_gmem_rvalid, s.rvalid);
  Put(m.m_axi_gmem_rid, s.rid);
  for (unsigned i = 0; i < kAxiDataBytes / 4; ++i) {
    uint32_t word = 0;
    std::memcpy(&word, s.rdata.data() + 4 * i, 4);
    m.m_axi_gmem_rdata[i] = word;
  }
  Put(m.m_axi_gmem_rresp, s.rresp);
  Put(m.m_axi_gmem_rlast, s.rlast);
}

template <VitisKernelModel M>
AxiLiteSlaveOut ReadControl(const M& m) {
  AxiLiteSlaveOut o;
  o.awready = m.s_axi_control_awready != 0;
  o.wready = m.s_axi_control_wready != 0;
  o.bvalid = m.s_axi_control_bvalid != 0;
  o.bresp = static_cast<uint8_t>(m.s_axi_control_bresp);
  o.arready = m.s_axi_control_arready != 0;
  o.rvalid = m.s_axi_control_rvalid != 0;
  o.rdata = static_cast<uint32_t>(m.s_axi_control_rdata);
  o.rresp = static_cast<uint8_t>(m.s_axi_control_rresp);
  return o;
}

template <VitisKernelModel M>
void WriteControl(M& m, const AxiLiteMasterOut& o) {
  using ports_internal::Put;
  Put(m.s_axi_control_awvalid, o.awvalid);
  Put(m.s_axi_control_awaddr, o.awaddr);
  Put(m.s_axi_control_wvalid, o.wvalid);
  Put(m.s_axi_control_wdata, o.wdata);
  Put(m.s_axi_control_wstrb, o.wstrb);
  Put(m.s_axi_control_bready, o.bready);
  Put(m.s_axi_control_arvalid, o.arvalid);
  Put(m.s_axi_control_araddr, o.araddr);
  Put(m.s_axi_control_rready, o.rready);
}

}  // namespace ipsec::sim
