#!/usr/bin/env bash
# clean measurements for docs/distributed.md (run with nothing else on the machine)
set -x  # needs: mvn -o install -DskipTests done first
cd "$(dirname "$0")/../.."

M="${1:?usage: measure_distributed.sh OUT_DIR}"; mkdir -p "$M"
mvn -o -q -pl mae-distributed dependency:build-classpath -Dmdep.outputFile=$M/cp.txt > /dev/null 2>&1
CP=mae-distributed/target/classes:mae-distributed/target/test-classes:$(cat $M/cp.txt)
java -Xmx2g -cp $CP org.mae4j.distributed.AllReduceTiming 5809938 2 10 > $M/ar-tiny.log 2>&1
java -Xmx6g -cp $CP org.mae4j.distributed.AllReduceTiming 112000000 2 5 > $M/ar-vitb.log 2>&1
for w in 1 2 1 2; do
  rm -rf $M/w$w
  if [ $w = 1 ]; then ./mae pretrain --limit 5120 --batch 256 --epochs 1 --max-steps 12 --viz-images 0 --out $M/w$w > $M/w$w.log 2>&1
  else ./mae pretrain --workers 2 --limit 5120 --batch 256 --epochs 1 --max-steps 12 --viz-images 0 --out $M/w$w > $M/w$w.log 2>&1; fi
  grep '"type":"step"' $M/w$w/metrics.jsonl | tail -9 | grep -o '"samples_per_s":[0-9.]*' | cut -d: -f2 | sort -g | awk -v w=$w '{v[NR]=$1} END {print "workers " w ": median " v[int((NR+1)/2)] " images/s over the last " NR " steps"}' >> $M/workers.txt
done
./mae bench --config maeVitBasePatch16 --steps 3 > $M/vitb.log 2>&1
echo done > $M/done
