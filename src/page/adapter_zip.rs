//! A fine-tuned adapter as the zip the page offers for download.

use crate::protocol::analysis::AdapterFiles;

/// A zip archive of the adapter folder (`adapter_config.json`, `adapter_model.safetensors`,
/// stored uncompressed) that `peft.PeftModel.from_pretrained` reads once unpacked.
pub fn adapter_zip(files: &AdapterFiles) -> Result<Vec<u8>, zip::result::ZipError> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options =
            zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in [
            ("adapter_config.json", files.config_json.as_bytes()),
            ("adapter_model.safetensors", files.safetensors.as_slice()),
        ] {
            zip.start_file(name, options)?;
            zip.write_all(bytes)?;
        }
        zip.finish()?;
    }
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_zip_holds_both_files() {
        use std::io::Read;
        let files = AdapterFiles {
            lambda: 0.1,
            config_json: "{\"r\": 8}".into(),
            safetensors: vec![1, 2, 3, 250],
        };
        let bytes = adapter_zip(&files).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(zip.len(), 2);
        let mut text = String::new();
        zip.by_name("adapter_config.json")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, files.config_json);
        let mut raw = Vec::new();
        zip.by_name("adapter_model.safetensors")
            .unwrap()
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw, files.safetensors);
    }
}
