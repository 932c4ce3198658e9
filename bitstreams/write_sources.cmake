# cmake -DOUT=<file> -P write_sources.cmake: writes the card's SystemVerilog sources, one per
# line in read order, from hw/card/card_sources.cmake (the list every other build uses).
include(${CMAKE_CURRENT_LIST_DIR}/../hw/card/card_sources.cmake)
list(JOIN IPSEC_CARD_TOP_SOURCES "\n" text)
file(WRITE ${OUT} "${text}\n")
