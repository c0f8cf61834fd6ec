// A file picker that is a real button: reached with Tab, opened with Enter or Space. A <label>
// around a hidden <input type="file"> (what the pickers were) is clickable but never focusable,
// so a keyboard user could not open one at all.
import { useRef, type ReactNode } from 'react';

export interface FilePickerProps {
  children: ReactNode;
  /** The files picked (a copy: the input is cleared right after). */
  onFiles: (files: File[]) => void;
  className?: string;
  title?: string;
  accept?: string;
  multiple?: boolean;
  /** Pick a folder (Chromium's webkitdirectory) instead of files. */
  directory?: boolean;
  /** On the hidden input, where tests set files. */
  testId?: string;
}

export function FilePicker({ children, onFiles, className, title, accept, multiple, directory, testId }: FilePickerProps) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button type="button" className={className} title={title} onClick={() => input.current?.click()}>
        {children}
      </button>
      <input
        ref={input}
        type="file"
        hidden
        tabIndex={-1}
        accept={accept}
        multiple={multiple}
        {...(directory ? { webkitdirectory: '' } : {})}
        data-testid={testId}
        onChange={(e) => {
          const files = Array.from(e.currentTarget.files ?? []);
          if (files.length > 0) onFiles(files);
          // Picking the same file again must fire change again.
          e.currentTarget.value = '';
        }}
      />
    </>
  );
}
