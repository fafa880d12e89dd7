# bench/scorer.mk — builds the scorer micro-benchmark against build/libmlctl.a:
#   make && make -f bench/scorer.mk && sh bench/scorer.sh
BUILD ?= build
CFLAGS_BENCH := -std=c11 -O2 -g -D_POSIX_C_SOURCE=200809L -Ilib -Ilib/include -Wall -Wextra -Werror

$(BUILD)/bench/scorer_bench: bench/scorer_bench.c lib/scorer.h $(BUILD)/libmlctl.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BENCH) -o $@ bench/scorer_bench.c $(BUILD)/libmlctl.a -lsvm -lpthread -lm -ldl
