/** Progress display: an updating line on a terminal, plain lines otherwise (logs, CI). */
export interface Progress {
  update(text: string, final?: boolean): void;
  line(text: string): void;
}

export function progress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = Boolean(stream.isTTY);
  let open = false;
  return {
    update(text, final = false) {
      if (tty) {
        stream.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
        open = !final;
      } else if (final || !tty) stream.write(`${text}\n`);
    },
    line(text) {
      if (open) stream.write('\n');
      open = false;
      stream.write(`${text}\n`);
    },
  };
}
