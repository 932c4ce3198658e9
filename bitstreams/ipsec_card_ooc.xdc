# Out-of-context clock for packaging and kernel synthesis: 300 MHz, the target of the datapath
# (every pipeline stage at most 5 LUT levels, docs/performance.md). In the linked design the
# platform's clock wizard drives ap_clk at the frequency the link configuration asks for.
create_clock -name ap_clk -period 3.333 [get_ports ap_clk]
# ap_rst_n comes from the shell's reset synchroniser on the same clock.
set_input_delay -clock ap_clk 0.5 [get_ports ap_rst_n]
