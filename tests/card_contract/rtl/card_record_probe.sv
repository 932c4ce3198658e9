// SPDX-License-Identifier: Apache-2.0
//
// Test probe for the generated ipsec_card_pkg: decodes raw records through the package's packed
// structs, builds a completion from fields, and exposes a few register constants, so that
// card_contract_rtl_test can check that the SystemVerilog view of the contract and the C++ codec
// in card_regs.h agree bit for bit. Raw records are little-endian byte strings: record byte k is
// bits [8k+7:8k], as in a 512-bit DMA beat.
`default_nettype none

module card_record_probe (
  // Request descriptor in (the card reads these)
  input  logic [255:0] desc_i,
  output logic [63:0]  desc_buf_addr_o,
  output logic [15:0]  desc_pkt_offset_o,
  output logic [15:0]  desc_pkt_len_o,
  output logic         desc_dir_o,
  output logic         desc_sa_valid_o,
  output logic [23:0]  desc_sa_index_o,
  output logic [63:0]  desc_user_data_o,
  output logic         desc_reserved_clear_o,

  // Completion out (the card writes these), built from fields
  input  logic [63:0]  cpl_user_data_i,
  input  logic [63:0]  cpl_seq_i,
  input  logic [31:0]  cpl_spi_i,
  input  logic [23:0]  cpl_sa_index_i,
  input  logic [15:0]  cpl_out_len_i,
  input  logic [15:0]  cpl_desc_index_i,
  input  ipsec_card_pkg::cpl_status_e cpl_status_i,
  input  logic         cpl_phase_i,
  output logic [255:0] cpl_o,

  // SA parameter record in (staged in SA_PARAM_*)
  input  logic [767:0] sa_i,
  output logic [31:0]  sa_spi_o,
  output logic [7:0]   sa_suite_o,
  output logic [1:0]   sa_df_mode_o,
  output logic         sa_esn_o,
  output logic [31:0]  sa_replay_window_o,
  output logic [63:0]  sa_hard_packets_o,
  output logic [127:0] sa_tunnel_dst_o,

  // Event record in (for the phase and type positions)
  input  logic [127:0] event_i,
  output logic [7:0]   event_kind_o,
  output logic         event_phase_o,

  // The phase rule
  input  logic [15:0]  index_i,
  input  logic [3:0]   size_log2_i,
  output logic         phase_o,

  // Constants
  output logic [15:0]  ring_rq_prod_offset_o,
  output logic [15:0]  sa_key_offset_o,
  output logic [31:0]  id_cap_records_reset_o,
  output logic [31:0]  cpl_phase_lsb_o
);

  ipsec_card_pkg::req_desc_t  desc;
  ipsec_card_pkg::cpl_t       cpl;
  ipsec_card_pkg::sa_params_t sa;
  ipsec_card_pkg::event_t     evt;

  assign desc = desc_i;
  assign sa   = sa_i;
  assign evt  = event_i;

  assign desc_buf_addr_o   = desc.buf_addr;
  assign desc_pkt_offset_o = desc.pkt_offset;
  assign desc_pkt_len_o    = desc.pkt_len;
  assign desc_dir_o        = desc.dir;
  assign desc_sa_valid_o   = desc.sa_valid;
  assign desc_sa_index_o   = desc.sa_index;
  assign desc_user_data_o  = desc.user_data;
  // The card's BAD_DESCRIPTOR check on reserved bits.
  assign desc_reserved_clear_o = (desc.rsvd_115 == '0) && (desc.rsvd_152 == '0);

  always_comb begin
    cpl             = '0;
    cpl.user_data   = cpl_user_data_i;
    cpl.seq         = cpl_seq_i;
    cpl.spi         = cpl_spi_i;
    cpl.sa_index    = cpl_sa_index_i;
    cpl.next_header = 8'd4;
    cpl.out_offset  = 16'd64;
    cpl.out_len     = cpl_out_len_i;
    cpl.desc_index  = cpl_desc_index_i;
    cpl.status      = cpl_status_i;
    cpl.dir         = ipsec_card_pkg::DirInbound;
    cpl.phase       = cpl_phase_i;
  end
  assign cpl_o = cpl;

  assign sa_spi_o           = sa.spi;
  assign sa_suite_o         = sa.suite;
  assign sa_df_mode_o       = sa.df_mode;
  assign sa_esn_o           = sa.esn;
  assign sa_replay_window_o = sa.replay_window;
  assign sa_hard_packets_o  = sa.hard_packets;
  assign sa_tunnel_dst_o    = sa.tunnel_dst;

  assign event_kind_o  = evt.kind;
  assign event_phase_o = evt.phase;

  assign phase_o = ipsec_card_pkg::ring_phase(index_i, size_log2_i);

  assign ring_rq_prod_offset_o  = ipsec_card_pkg::RingRqProdOffset;
  assign sa_key_offset_o        = ipsec_card_pkg::SaKeyOffset;
  assign id_cap_records_reset_o = ipsec_card_pkg::IdCapRecordsReset;
  assign cpl_phase_lsb_o        = ipsec_card_pkg::CplPhaseLsb;

  // Fields this probe does not look at.
  logic unused_fields;
  assign unused_fields = ^{desc.buf_len, desc.irq, sa, evt};

endmodule
