// The AXI4 and AXI4-Lite signal bundles the sim library exchanges with a Verilated card, one
// struct per direction, plus the response codes and the records of errors and protocol violations.
//
// The agents (Axi4MemorySlave, AxiLiteMaster) only see these plain structs; sim/verilated_ports.h
// copies them to and from the model's port fields. Data buses are bytes in lane order: lane j is
// bits [8j+7:8j] of the RTL vector (AMBA AXI: little-endian byte lanes).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ipsec::sim {

// The card's AXI4 master: 512-bit data (64 byte lanes), 64-bit addresses.
inline constexpr unsigned kAxiDataBytes = 64;
inline constexpr unsigned kAxiMaxSizeLog2 = 6;  // AxSIZE 6 = 64 bytes, the bus width

enum class AxiResp : uint8_t { kOkay = 0, kExOkay = 1, kSlvErr = 2, kDecErr = 3 };
std::string_view AxiRespName(AxiResp resp);

enum class AxiDir : uint8_t { kRead, kWrite };
std::string_view AxiDirName(AxiDir dir);

using AxiBeat = std::array<std::byte, kAxiDataBytes>;

// Driven by the card (m_axi_gmem_* outputs).
struct Axi4MasterOut {
  bool awvalid = false;
  uint64_t awaddr = 0;
  uint32_t awid = 0;
  uint8_t awlen = 0, awsize = 0, awburst = 0;
  bool wvalid = false;
  AxiBeat wdata{};
  uint64_t wstrb = 0;
  bool wlast = false;
  bool bready = false;
  bool arvalid = false;
  uint64_t araddr = 0;
  uint32_t arid = 0;
  uint8_t arlen = 0, arsize = 0, arburst = 0;
  bool rready = false;
};

// Driven by host memory (m_axi_gmem_* inputs).
struct Axi4SlaveOut {
  bool awready = false;
  bool wready = false;
  bool bvalid = false;
  uint32_t bid = 0;
  uint8_t bresp = 0;
  bool arready = false;
  bool rvalid = false;
  uint32_t rid = 0;
  AxiBeat rdata{};
  uint8_t rresp = 0;
  bool rlast = false;
};

// Driven by the host toward the card's registers (s_axi_control_* inputs).
struct AxiLiteMasterOut {
  bool awvalid = false;
  uint64_t awaddr = 0;
  bool wvalid = false;
  uint32_t wdata = 0;
  uint8_t wstrb = 0;
  bool bready = false;
  bool arvalid = false;
  uint64_t araddr = 0;
  bool rready = false;
};

// Driven by the card's register slave (s_axi_control_* outputs).
struct AxiLiteSlaveOut {
  bool awready = false;
  bool wready = false;
  bool bvalid = false;
  uint8_t bresp = 0;
  bool arready = false;
  bool rvalid = false;
  uint32_t rdata = 0;
  uint8_t rresp = 0;
};

// A DMA access that did not complete with OKAY, as host memory answered it.
enum class DmaErrorCause : uint8_t {
  kUnmapped,  // some byte of the burst lies outside every HostMemory allocation (DECERR)
  kInjected,  // an ErrorRule matched (SLVERR or DECERR, as the rule says)
  kProtocol,  // the request itself broke AXI4 (4 KiB crossing, non-INCR, size > bus): SLVERR
};
std::string_view DmaErrorCauseName(DmaErrorCause cause);

struct DmaErrorEvent {
  uint64_t cycle = 0;  // cycle of the address handshake
  AxiDir dir = AxiDir::kRead;
  uint64_t addr = 0;
  uint32_t id = 0;
  uint32_t beats = 0;
  AxiResp resp = AxiResp::kOkay;
  DmaErrorCause cause = DmaErrorCause::kUnmapped;
  std::string ToString() const;
};

// A breach of the AXI handshake or burst rules by the card. Any of these fails a test.
struct ProtocolViolation {
  uint64_t cycle = 0;
  std::string what;  // "m_axi_gmem AR: ARVALID dropped before ARREADY", ...
};

}  // namespace ipsec::sim
